// The admin boundary: a configured admin token (X-OpenClaw-Admin-Token or Authorization: Bearer), compared in
// constant time, or a console session cookie (issued for that token by POST /console/api/session, looked up in
// the shared store); with no token configured, loopback callers only. Failed attempts (a wrong token, a wrong
// or expired cookie) are rate-limited per address: once an address reaches the limit, every attempt from it is
// refused until the window passes (a right token too), so guessing gains nothing. Decided from the headers
// alone, before any body is read.
import type { IncomingMessage } from "node:http";
import { FailureLimiter } from "../security/failure-limiter.ts";
import { bearerToken, isLocalRequest, safeEqual } from "./respond.ts";
import type { Authorization, Refusal } from "./router.ts";

/** The console's session cookie (src/console/session.ts issues it). */
export const SESSION_COOKIE = "clawgate_console";

/** Who made an admin call, for the audit log: "admin-token", "console:<first 8 of the session id>", "loopback". */
export interface AdminCaller {
  who: string;
}

/** Looks a session id up in the shared store; resolves to the caller name ("console:ab12cd34") when it is live. */
export interface SessionVerifier {
  verify(id: string): Promise<string | undefined>;
}

/** The value of one cookie in the request's Cookie header(s). */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const LOOPBACK_ONLY =
  "admin API is loopback-only: set adminToken (or OPENCLAW_ADMIN_TOKEN) to allow remote calls";

export class AdminAuth {
  readonly #token: string | undefined;
  readonly #failures: FailureLimiter;
  #sessions: SessionVerifier | undefined;

  constructor(token: string | undefined, opts: { failuresPerMinute?: number } = {}) {
    this.#token = token;
    this.#failures = new FailureLimiter(opts.failuresPerMinute ?? 10, 60_000);
  }

  /** Accept console session cookies from now on (the console module supplies the lookup). */
  useSessions(sessions: SessionVerifier) {
    this.#sessions = sessions;
  }

  get tokenConfigured(): boolean {
    return Boolean(this.#token);
  }

  /** The route's `authorize` step (src/http/router.ts). */
  readonly authorize = async (req: IncomingMessage): Promise<Authorization> => {
    const cookie = cookieValue(req, SESSION_COOKIE);
    if (!this.#token) {
      // A request relayed by a reverse proxy on this machine is not local, whatever its socket says.
      if (!isLocalRequest(req)) return { ok: false, status: 403, error: LOOPBACK_ONLY };
      const session = cookie ? await this.#sessions?.verify(cookie) : undefined;
      return { ok: true, caller: { who: session ?? "loopback" } satisfies AdminCaller };
    }
    const blocked = this.refusal(req);
    if (blocked) return blocked;
    const presented =
      (req.headers["x-openclaw-admin-token"] as string | undefined) ?? bearerToken(req) ?? undefined;
    if (presented) {
      if (this.checkToken(req, presented)) return { ok: true, caller: { who: "admin-token" } };
      return { ok: false, status: 403, error: "admin token is wrong" };
    }
    if (cookie) return this.checkSession(req, cookie);
    this.fail(req);
    return {
      ok: false,
      status: 401,
      error:
        "admin token required: send X-OpenClaw-Admin-Token or Authorization: Bearer, or sign in to the console",
    };
  };

  /** 429 while the caller's address is blocked, else undefined. */
  refusal(req: IncomingMessage): Refusal | undefined {
    return this.#failures.refusal(req.socket.remoteAddress ?? "unknown", "failed admin attempts");
  }

  fail(req: IncomingMessage) {
    this.#failures.fail(req.socket.remoteAddress ?? "unknown");
  }

  /** Compares a presented token in constant time; a wrong one counts as a failed attempt. */
  checkToken(req: IncomingMessage, presented: string): boolean {
    if (this.#token && safeEqual(presented, this.#token)) return true;
    this.fail(req);
    return false;
  }

  /** A session cookie: live → the caller; wrong, expired or signed out → 401, counted as a failed attempt. */
  async checkSession(req: IncomingMessage, id: string): Promise<Authorization> {
    const who = await this.#sessions?.verify(id);
    if (who) return { ok: true, caller: { who } satisfies AdminCaller };
    this.fail(req);
    return {
      ok: false,
      status: 401,
      error: "the console session has expired or was signed out: sign in again",
    };
  }
}
