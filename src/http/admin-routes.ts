// The admin HTTP API used by the CLI (and later the console). Every route passes AdminAuth before its body is read.
import type { Gateway } from "../gateway/gateway.ts";
import type { QueueState } from "../store/types.ts";
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
  registerQueueRoutes(gw, auth);
}

const QUEUE_STATES = ["pending", "leased", "done", "dead"];

/** GET /admin/api/{inbox,outbox}?state= and POST /admin/api/{inbox,outbox}/:id/retry (dead letters). */
function registerQueueRoutes(gw: Gateway, auth: AdminAuth) {
  const queues = {
    inbox: {
      list: (state?: QueueState) => gw.store.listInbound({ state, limit: 100 }),
      retry: (id: string) => gw.store.retryInbound(id),
      noun: "inbox item",
    },
    outbox: {
      list: (state?: QueueState) => gw.store.listOutbound({ state, limit: 100 }),
      retry: (id: string) =>
        /^\d{1,15}$/.test(id) ? gw.store.retryOutbound(Number(id)) : Promise.resolve(false),
      noun: "delivery",
    },
  };
  for (const [name, q] of Object.entries(queues)) {
    gw.router.add(
      "GET",
      `/admin/api/${name}`,
      adminHandler(auth, async (_req, res, { url }) => {
        const state = url.searchParams.get("state") ?? undefined;
        if (state && !QUEUE_STATES.includes(state)) {
          return sendError(res, 400, `state must be one of ${QUEUE_STATES.join(", ")}`);
        }
        const items = await q.list(state as QueueState | undefined);
        sendJson(res, 200, { ok: true, items: items.map(({ payload: _p, ...rest }) => rest) });
      }),
    );
    gw.router.add(
      "POST",
      `/admin/api/${name}/:id/retry`,
      adminHandler(auth, async (_req, res, { params }) => {
        const ok = await q.retry(params.id!);
        if (!ok) return sendError(res, 404, `no dead-lettered ${q.noun} ${params.id}`);
        gw.wakeQueues();
        sendJson(res, 200, { ok: true });
      }),
    );
  }
}
