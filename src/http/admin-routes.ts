// The admin HTTP API used by the CLI (and later the console). Every route passes AdminAuth before its body is read.
import type { Gateway } from "../gateway/gateway.ts";
import { AdminAuth } from "./admin-auth.ts";
import { sendError, sendJson } from "./respond.ts";
import { declareRoute, type Handler } from "./router.ts";

/** An admin route: the server checks the admin boundary (Host, Origin, JSON, AdminAuth) before the body. */
export function adminHandler(auth: AdminAuth, handler: Handler): Handler {
  return declareRoute(handler, { kind: "admin", authorize: auth.authorize });
}

export function registerAdminRoutes(gw: Gateway) {
  const auth = new AdminAuth(gw.config.adminToken);
  gw.adminAuth = auth;
  gw.router.add(
    "GET",
    "/admin/api/status",
    adminHandler(auth, async (_req, res) => {
      const [inbox, outbox] = await Promise.all([gw.store.inboxStats(), gw.store.outboxStats()]);
      sendJson(res, 200, {
        ok: true,
        version: gw.services.version,
        uptimeSec: Math.round((Date.now() - gw.startedAt) / 1000),
        store: gw.store.kind,
        url: gw.url,
        inbox,
        outbox,
        channels: gw.adapters().map((a) => ({
          channel: a.channel,
          account: a.account,
          listen: a.listen,
          ...a.health(),
        })),
      });
    }),
  );
  gw.router.add(
    "GET",
    "/admin/api/inbox",
    adminHandler(auth, async (_req, res, { url }) => {
      const state = url.searchParams.get("state") ?? undefined;
      if (state && !["pending", "leased", "done", "dead"].includes(state)) {
        return sendError(res, 400, "state must be one of pending, leased, done, dead");
      }
      const items = await gw.store.listInbound({ state: state as "dead" | undefined, limit: 100 });
      sendJson(res, 200, { ok: true, items: items.map(({ payload: _p, ...rest }) => rest) });
    }),
  );
  gw.router.add(
    "POST",
    "/admin/api/inbox/:id/retry",
    adminHandler(auth, async (_req, res, { params }) => {
      const ok = await gw.store.retryInbound(params.id!);
      if (!ok) return sendError(res, 404, `no dead-lettered inbox item ${params.id}`);
      sendJson(res, 200, { ok: true });
    }),
  );
}
