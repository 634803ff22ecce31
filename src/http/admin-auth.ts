// The admin boundary: a configured admin token (X-OpenClaw-Admin-Token or Authorization: Bearer), compared in
// constant time; with no token configured, loopback callers only. Failed attempts are rate-limited per address.
import type { IncomingMessage, ServerResponse } from "node:http";
import { SlidingWindowLimiter } from "../core/rate-limit.ts";
import { bearerToken, isLoopback, safeEqual, sendError } from "./respond.ts";

export class AdminAuth {
  readonly #token: string | undefined;
  readonly #failures = new SlidingWindowLimiter(10, 60_000);

  constructor(token: string | undefined) {
    this.#token = token;
  }

  /** True when the request may proceed; otherwise the refusal has been sent. */
  check(req: IncomingMessage, res: ServerResponse): boolean {
    const ip = req.socket.remoteAddress ?? "unknown";
    const presented =
      (req.headers["x-openclaw-admin-token"] as string | undefined) ?? bearerToken(req) ?? undefined;
    if (!this.#token) {
      if (isLoopback(req)) return true;
      sendError(
        res,
        403,
        "admin API is loopback-only: set adminToken (or OPENCLAW_ADMIN_TOKEN) to allow remote calls",
      );
      return false;
    }
    if (presented && safeEqual(presented, this.#token)) return true;
    const limited = this.#failures.take(ip, Date.now());
    if (!limited.ok) {
      res.setHeader("retry-after", String(Math.ceil(limited.retryAfterMs / 1000)));
      sendError(res, 429, "too many failed admin attempts; wait and try again");
      return false;
    }
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
