// GET /admin/api/conversations and …/:key/messages: the console's conversation browser. `q` searches message
// text and `user` the authors, both in the store (src/store/sql.ts searchSessions). An assistant message's
// author is "<target> (<n> ms)" (src/gateway/pipeline.ts writes it), read back here as target and latency.
import { parseSessionKey } from "../core/session-key.ts";
import type { AdminRouteRegistry } from "../http/admin-routes.ts";
import { sendError, sendJson } from "../http/respond.ts";
import type { Store, StoredMessage } from "../store/types.ts";

const ANSWERED_BY = /^(.+) \((\d+) ms\)$/;

/** limit from the query string within 1…max, or the default; undefined when it is not a whole number. */
export function limitParam(url: URL, fallback: number, max: number): number | undefined {
  const raw = url.searchParams.get("limit");
  if (raw === null || raw === "") return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : undefined;
}

export function publicMessage(m: StoredMessage) {
  const answered = m.role === "assistant" && m.author ? ANSWERED_BY.exec(m.author) : null;
  return {
    id: m.id,
    role: m.role,
    content: m.content,
    author: answered ? null : m.author,
    createdAt: m.createdAt,
    ...(answered ? { target: answered[1], latencyMs: Number(answered[2]) } : {}),
  };
}

export function registerConversationRoutes(admin: AdminRouteRegistry, store: Store) {
  admin.add("GET", "/admin/api/conversations", async (_req, res, { url }) => {
    const limit = limitParam(url, 50, 200);
    if (limit === undefined) return sendError(res, 400, "limit must be a whole number from 1 to 200");
    const p = url.searchParams;
    const channel = p.get("channel")?.trim();
    const sessions = await store.searchSessions({
      prefix: channel ? `${channel}:` : undefined,
      text: p.get("q")?.trim() || undefined,
      author: p.get("user")?.trim() || undefined,
      limit,
    });
    sendJson(res, 200, {
      ok: true,
      conversations: sessions.map((s) => {
        const k = parseSessionKey(s.key);
        return {
          key: s.key,
          channel: k?.channel ?? s.key.split(":")[0],
          account: k?.account ?? null,
          conversationId: k?.conversationId ?? s.key,
          title: s.title,
          updatedAt: s.updatedAt,
          lastMessage: s.lastMessage,
        };
      }),
    });
  });

  admin.add("GET", "/admin/api/conversations/:key/messages", async (_req, res, { params, url }) => {
    const limit = limitParam(url, 100, 1000);
    if (limit === undefined) return sendError(res, 400, "limit must be a whole number from 1 to 1000");
    if (!(await store.getSession(params.key!))) return sendError(res, 404, `no conversation ${params.key}`);
    const messages = await store.listMessages(params.key!, { last: limit });
    sendJson(res, 200, { ok: true, messages: messages.map(publicMessage) });
  });
}
