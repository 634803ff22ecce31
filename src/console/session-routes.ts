// /console/api/session: signing the console in and out. Sign-in takes the admin token in a JSON body (so it
// never sits in a URL or a log line) and answers with the session cookie. The route has the admin kind (Host,
// Origin and JSON rules), and its authorize step refuses a blocked address before the body is read; a wrong
// token counts against the same per-address limit as a wrong X-OpenClaw-Admin-Token.
import type { IncomingMessage } from "node:http";
import type { AdminAuth } from "../http/admin-auth.ts";
import { cookieValue, SESSION_COOKIE } from "../http/admin-auth.ts";
import { type AdminRouteRegistry, auditNote } from "../http/admin-routes.ts";
import { readJsonObject } from "../http/json-body.ts";
import { isLocalRequest, sendError, sendJson } from "../http/respond.ts";
import type { Authorization } from "../http/router.ts";
import { type ConsoleSessions, clearedCookie, sessionCookie, sessionName } from "./session.ts";

export interface SessionRouteOptions {
  auth: AdminAuth;
  sessions: ConsoleSessions;
  /** server.publicBaseUrl: an https one means the browser reaches the console over TLS (a proxy in front). */
  publicBaseUrl?: string;
}

const PATH = "/console/api/session";

export function registerSessionRoutes(admin: AdminRouteRegistry, o: SessionRouteOptions) {
  const secure = (req: IncomingMessage) =>
    o.publicBaseUrl?.startsWith("https:") === true || req.headers["x-forwarded-proto"] === "https";

  // Before the body: a blocked address is refused; with no admin token, only this machine may sign in.
  const mayTry = (req: IncomingMessage): Authorization => {
    if (!o.auth.tokenConfigured)
      return isLocalRequest(req)
        ? { ok: true, caller: { who: "loopback" } }
        : {
            ok: false,
            status: 403,
            error:
              "the console is loopback-only: set adminToken (or OPENCLAW_ADMIN_TOKEN) to sign in remotely",
          };
    return o.auth.refusal(req) ?? { ok: true, caller: { who: "anonymous" } };
  };

  admin.add(
    "POST",
    PATH,
    async (req, res, { body }) => {
      if (o.auth.tokenConfigured) {
        const json = readJsonObject(body);
        const token = typeof json?.token === "string" ? json.token : "";
        if (!token) {
          o.auth.fail(req);
          return sendError(res, 400, 'send {"token":"<admin token>"} with Content-Type: application/json');
        }
        if (!o.auth.checkToken(req, token)) return sendError(res, 401, "admin token is wrong");
      }
      const session = await o.sessions.create();
      auditNote(res, { who: sessionName(session.id), summary: "signed in" });
      res.writeHead(204, {
        "set-cookie": sessionCookie(session.id, secure(req)),
        "cache-control": "no-store",
      });
      res.end();
    },
    { bodyLimitBytes: 4096, authorize: mayTry },
  );

  // Checks the cookie only: no cookie is a plain 401 (not an attempt); a wrong one counts as a failed attempt.
  admin.add(
    "GET",
    PATH,
    async (req, res) => {
      const id = cookieValue(req, SESSION_COOKIE);
      if (!id) return sendError(res, 401, "not signed in");
      const verdict = await o.auth.checkSession(req, id);
      if (!verdict.ok) return sendError(res, verdict.status, verdict.error);
      sendJson(res, 200, { ok: true, expiresAt: await o.sessions.expiresAt(id) });
    },
    { authorize: mayTry },
  );

  // Signing out takes the live session it ends; anything else is refused before the handler (so it is not
  // audited: an unauthenticated caller cannot fill the audit log) and told to forget the cookie all the same.
  admin.add(
    "DELETE",
    PATH,
    async (req, res) => {
      const id = cookieValue(req, SESSION_COOKIE);
      if (id) await o.sessions.delete(id);
      auditNote(res, { summary: "signed out" });
      res.writeHead(204, { "set-cookie": clearedCookie(secure(req)), "cache-control": "no-store" });
      res.end();
    },
    {
      authorize: async (req) => {
        const id = cookieValue(req, SESSION_COOKIE);
        const verdict: Authorization =
          (o.auth.tokenConfigured && o.auth.refusal(req)) ||
          (id ? await o.auth.checkSession(req, id) : { ok: false, status: 401, error: "not signed in" });
        if (verdict.ok) return verdict;
        return { ...verdict, headers: { ...verdict.headers, "set-cookie": clearedCookie(secure(req)) } };
      },
    },
  );
}
