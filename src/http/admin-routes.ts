// The admin HTTP API used by the CLI (and later the console). Every route passes AdminAuth before its body is read.
import type { QueueState, Store } from "../store/types.ts";
import type { AdminAuth } from "./admin-auth.ts";
import { sendError, sendJson } from "./respond.ts";
import { declareRoute, type Handler, type RouteOptions, type Router } from "./router.ts";

/** An admin route: the server checks the admin boundary (Host, Origin, JSON, AdminAuth) before the body. */
export function adminHandler(auth: AdminAuth, handler: Handler): Handler {
  return declareRoute(handler, { kind: "admin", authorize: auth.authorize });
}

/**
 * Registers admin API routes: the server checks the admin boundary (Host, Origin, JSON, the admin token) before
 * a byte of the body is read, so a handler only ever sees an authorised operator.
 */
export interface AdminRouteRegistry {
  add(method: string, path: string, handler: Handler, opts?: Pick<RouteOptions, "bodyLimitBytes">): void;
}

/** The one way admin routes are registered: every handler is wrapped in the admin boundary. */
export function adminRoutes(router: Router, auth: AdminAuth): AdminRouteRegistry {
  return {
    add: (method, path, handler, opts) => router.add(method, path, adminHandler(auth, handler), opts),
  };
}

export interface AdminStatusSource {
  store: Store;
  version: string;
  startedAt: number;
  url(): string;
  adapters(): { channel: string; account: string; listen?: unknown; health(): object }[];
  /** Wake the queue workers (a dead letter was put back). */
  wakeQueues(): void;
  /** More to say about one channel account (its running state, effective agent URL). */
  channelExtras?(channel: string, account: string): Record<string, unknown>;
}

export function registerAdminRoutes(admin: AdminRouteRegistry, gw: AdminStatusSource) {
  admin.add("GET", "/admin/api/status", async (_req, res) => {
    const [inbox, outbox] = await Promise.all([gw.store.inboxStats(), gw.store.outboxStats()]);
    sendJson(res, 200, {
      ok: true,
      version: gw.version,
      uptimeSec: Math.round((Date.now() - gw.startedAt) / 1000),
      store: gw.store.kind,
      url: gw.url(),
      inbox,
      outbox,
      channels: gw.adapters().map((a) => ({
        channel: a.channel,
        account: a.account,
        listen: a.listen,
        ...a.health(),
        ...gw.channelExtras?.(a.channel, a.account),
      })),
    });
  });
  registerQueueRoutes(admin, gw);
}

const QUEUE_STATES = ["pending", "leased", "done", "dead"];

/** GET /admin/api/{inbox,outbox}?state= and POST /admin/api/{inbox,outbox}/:id/retry (dead letters). */
function registerQueueRoutes(admin: AdminRouteRegistry, gw: AdminStatusSource) {
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
    admin.add("GET", `/admin/api/${name}`, async (_req, res, { url }) => {
      const state = url.searchParams.get("state") ?? undefined;
      if (state && !QUEUE_STATES.includes(state)) {
        return sendError(res, 400, `state must be one of ${QUEUE_STATES.join(", ")}`);
      }
      const items = await q.list(state as QueueState | undefined);
      sendJson(res, 200, { ok: true, items: items.map(({ payload: _p, ...rest }) => rest) });
    });
    admin.add("POST", `/admin/api/${name}/:id/retry`, async (_req, res, { params }) => {
      const ok = await q.retry(params.id!);
      if (!ok) return sendError(res, 404, `no dead-lettered ${q.noun} ${params.id}`);
      gw.wakeQueues();
      sendJson(res, 200, { ok: true });
    });
  }
}
