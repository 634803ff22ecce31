// The admin HTTP API used by the CLI and the console. Every route passes AdminAuth before its body is read, and
// every call that changes something is recorded in the audit log here, in one place.
import type { ServerResponse } from "node:http";
import type { QueueState, Store } from "../store/types.ts";
import type { AdminAuth, AdminCaller } from "./admin-auth.ts";
import { HttpError } from "./errors.ts";
import { sendError, sendJson } from "./respond.ts";
import { type Authorize, declareRoute, type Handler, type RouteOptions, type Router } from "./router.ts";

/** An admin route: the server checks the admin boundary (Host, Origin, JSON, AdminAuth) before the body. */
export function adminHandler(auth: AdminAuth, handler: Handler): Handler {
  return declareRoute(handler, { kind: "admin", authorize: auth.authorize });
}

/** One audited admin call (who, what, when). */
export interface AuditEntry {
  id: string;
  at: number;
  who: string;
  method: string;
  path: string;
  status: number;
  summary?: string;
}

/** Where audit entries go (src/console/audit.ts keeps them in the store). */
export interface AuditSink {
  record(entry: Omit<AuditEntry, "id">): Promise<unknown>;
}

const notes = new WeakMap<ServerResponse, { who?: string; summary?: string }>();

/** A handler adds a line to its audit entry ("retried 3"), or names the caller it created (sign-in). */
export function auditNote(res: ServerResponse, note: { who?: string; summary?: string }) {
  notes.set(res, { ...notes.get(res), ...note });
}

/**
 * Registers admin API routes: the server checks the admin boundary (Host, Origin, JSON, the admin token) before
 * a byte of the body is read, so a handler only ever sees an authorised operator.
 */
export interface AdminRouteRegistry {
  add(
    method: string,
    path: string,
    handler: Handler,
    opts?: Pick<RouteOptions, "bodyLimitBytes"> & { authorize?: Authorize },
  ): void;
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The one way admin routes are registered: every handler is wrapped in the admin boundary, and every call that
 * changes something (POST, PUT, PATCH, DELETE) is recorded in the audit log once it has been answered. `authorize`
 * replaces AdminAuth only for the console's sign-in, whose body is the credential.
 */
export function adminRoutes(router: Router, auth: AdminAuth, audit?: AuditSink): AdminRouteRegistry {
  return {
    add: (method, path, handler, opts = {}) => {
      const audited: Handler =
        audit && MUTATING.has(method)
          ? async (req, res, ctx) => {
              let status: number | undefined;
              try {
                await handler(req, res, ctx);
              } catch (err) {
                status = err instanceof HttpError ? err.status : 500;
                throw err;
              } finally {
                const note = notes.get(res);
                await audit
                  .record({
                    at: Date.now(),
                    who: note?.who ?? (ctx.caller as AdminCaller | undefined)?.who ?? "unknown",
                    method,
                    path: ctx.url.pathname,
                    status: status ?? res.statusCode,
                    ...(note?.summary ? { summary: note.summary } : {}),
                  })
                  .catch(() => {});
              }
            }
          : handler;
      const route = declareRoute(audited, { kind: "admin", authorize: opts.authorize ?? auth.authorize });
      router.add(method, path, route, { bodyLimitBytes: opts.bodyLimitBytes });
    },
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

/** What GET /admin/api/status answers (and the console's live `status` event carries). */
export async function adminStatus(gw: AdminStatusSource) {
  const [inbox, outbox] = await Promise.all([gw.store.inboxStats(), gw.store.outboxStats()]);
  return {
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
  };
}

export function registerAdminRoutes(admin: AdminRouteRegistry, gw: AdminStatusSource) {
  admin.add("GET", "/admin/api/status", async (_req, res) => sendJson(res, 200, await adminStatus(gw)));
  registerQueueRoutes(admin, gw);
}

const QUEUE_STATES = ["pending", "leased", "done", "dead"];
/** The start of each item's payload shown in lists, so an operator can tell dead letters apart. */
export const PREVIEW_CHARS = 300;

/**
 * GET /admin/api/{inbox,outbox}?state=&limit= (with a payload preview), and for dead letters POST …/:id/retry,
 * …/:id/discard (finished, its error kept) and …/retry-dead (all of them).
 */
function registerQueueRoutes(admin: AdminRouteRegistry, gw: AdminStatusSource) {
  const outboxId = (id: string) => (/^\d{1,15}$/.test(id) ? Number(id) : undefined);
  const queues = {
    inbox: {
      list: (state: QueueState | undefined, limit: number) => gw.store.listInbound({ state, limit }),
      retry: (id: string) => gw.store.retryInbound(id),
      discard: (id: string) => gw.store.discardInbound(id),
      noun: "inbox item",
    },
    outbox: {
      list: (state: QueueState | undefined, limit: number) => gw.store.listOutbound({ state, limit }),
      retry: async (id: string) => outboxId(id) !== undefined && gw.store.retryOutbound(outboxId(id)!),
      discard: async (id: string) => outboxId(id) !== undefined && gw.store.discardOutbound(outboxId(id)!),
      noun: "delivery",
    },
  };
  for (const [name, q] of Object.entries(queues) as [keyof typeof queues, (typeof queues)["inbox"]][]) {
    admin.add("GET", `/admin/api/${name}`, async (_req, res, { url }) => {
      const state = url.searchParams.get("state") ?? undefined;
      if (state && !QUEUE_STATES.includes(state)) {
        return sendError(res, 400, `state must be one of ${QUEUE_STATES.join(", ")}`);
      }
      const limit = Number(url.searchParams.get("limit") ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        return sendError(res, 400, "limit must be a whole number from 1 to 1000");
      const items = await q.list(state as QueueState | undefined, limit);
      sendJson(res, 200, {
        ok: true,
        items: items.map(({ payload, ...rest }) => ({ ...rest, preview: payload.slice(0, PREVIEW_CHARS) })),
      });
    });
    // Registered before the :id routes: "retry-dead" is not an id.
    admin.add("POST", `/admin/api/${name}/retry-dead`, async (_req, res) => {
      const retried = await gw.store.retryAllDead(name);
      if (retried > 0) gw.wakeQueues();
      auditNote(res, { summary: `retried ${retried}` });
      sendJson(res, 200, { ok: true, retried });
    });
    admin.add("POST", `/admin/api/${name}/:id/retry`, async (_req, res, { params }) => {
      const ok = await q.retry(params.id!);
      if (!ok) return sendError(res, 404, `no dead-lettered ${q.noun} ${params.id}`);
      gw.wakeQueues();
      sendJson(res, 200, { ok: true });
    });
    admin.add("POST", `/admin/api/${name}/:id/discard`, async (_req, res, { params }) => {
      const ok = await q.discard(params.id!);
      if (!ok) return sendError(res, 404, `no dead-lettered ${q.noun} ${params.id}`);
      sendJson(res, 200, { ok: true });
    });
  }
}
