// The admin boundary: a configured admin token (X-OpenClaw-Admin-Token or Authorization: Bearer), compared in
// constant time; with no token configured, loopback callers only. Failed attempts are rate-limited per address:
// once an address reaches the limit, every attempt from it is refused until the window passes (a right token
// too), so guessing gains nothing. Decided from the headers alone, before any body is read.
import type { IncomingMessage } from "node:http";
import { FailureLimiter } from "../security/failure-limiter.ts";
import { bearerToken, isLocalRequest, safeEqual } from "./respond.ts";
import type { Authorization } from "./router.ts";

export class AdminAuth {
  readonly #token: string | undefined;
  readonly #failures: FailureLimiter;

  constructor(token: string | undefined, opts: { failuresPerMinute?: number } = {}) {
    this.#token = token;
    this.#failures = new FailureLimiter(opts.failuresPerMinute ?? 10, 60_000);
  }

  /** The route's `authorize` step (src/http/router.ts). */
  readonly authorize = (req: IncomingMessage): Authorization => {
    const ip = req.socket.remoteAddress ?? "unknown";
    if (!this.#token) {
      // A request relayed by a reverse proxy on this machine is not local, whatever its socket says.
      if (isLocalRequest(req)) return { ok: true };
      return {
        ok: false,
        status: 403,
        error: "admin API is loopback-only: set adminToken (or OPENCLAW_ADMIN_TOKEN) to allow remote calls",
      };
    }
    const blocked = this.#failures.refusal(ip, "failed admin attempts");
    if (blocked) return blocked;
    const presented =
      (req.headers["x-openclaw-admin-token"] as string | undefined) ?? bearerToken(req) ?? undefined;
    if (presented && safeEqual(presented, this.#token)) return { ok: true };
    this.#failures.fail(ip);
    return presented
      ? { ok: false, status: 403, error: "admin token is wrong" }
      : {
          ok: false,
          status: 401,
          error: "admin token required: send X-OpenClaw-Admin-Token or Authorization: Bearer",
        };
  };
}
