// The admin boundary: a configured admin token (X-OpenClaw-Admin-Token or Authorization: Bearer), compared in
// constant time; with no token configured, loopback callers only. Failed attempts are rate-limited per address:
// once an address reaches the limit, every attempt from it is refused until the window passes (a right token
// too), so guessing gains nothing.
import type { IncomingMessage, ServerResponse } from "node:http";
import { FailureLimiter, retryAfterSec } from "../security/failure-limiter.ts";
import { bearerToken, isLocalRequest, safeEqual, sendError } from "./respond.ts";

export class AdminAuth {
  readonly #token: string | undefined;
  readonly #failures: FailureLimiter;

  constructor(token: string | undefined, opts: { failuresPerMinute?: number } = {}) {
    this.#token = token;
    this.#failures = new FailureLimiter(opts.failuresPerMinute ?? 10, 60_000);
  }

  /** True when the request may proceed; otherwise the refusal has been sent. */
  check(req: IncomingMessage, res: ServerResponse): boolean {
    const ip = req.socket.remoteAddress ?? "unknown";
    const presented =
      (req.headers["x-openclaw-admin-token"] as string | undefined) ?? bearerToken(req) ?? undefined;
    if (!this.#token) {
      // A request relayed by a reverse proxy on this machine is not local, whatever its socket says.
      if (isLocalRequest(req)) return true;
      sendError(
        res,
        403,
        "admin API is loopback-only: set adminToken (or OPENCLAW_ADMIN_TOKEN) to allow remote calls",
      );
      return false;
    }
    const blocked = this.#failures.blockedForMs(ip);
    if (blocked > 0) {
      res.setHeader("retry-after", retryAfterSec(blocked));
      sendError(res, 429, "too many failed admin attempts; wait and try again");
      return false;
    }
    if (presented && safeEqual(presented, this.#token)) return true;
    this.#failures.fail(ip);
    sendError(
      res,
      presented ? 403 : 401,
      presented
        ? "admin token is wrong"
        : "admin token required: send X-OpenClaw-Admin-Token or Authorization: Bearer",
    );
    return false;
  }
}
