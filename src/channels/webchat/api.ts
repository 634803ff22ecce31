// The web chat's HTTP API (documented in docs/webchat-api.md; docs/openapi.json is generated from the `doc` next to
// each route). Who may call it and which threads they see: access.ts. Threads are sessions `webchat:default:<id>`.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import type { InboundEvent } from "../../core/event.ts";
import { readJsonObject } from "../../http/json-body.ts";
import { sendError, sendJson } from "../../http/respond.ts";
import { declareRoute, type Handler } from "../../http/router.ts";
import { loadMediaRefs, splitMediaRefs } from "../../media/history-refs.ts";
import { MediaStore } from "../../media/store.ts";
import type { DeviceRegistry } from "../../pairing/devices.ts";
import type { ChannelContext, WebhookRoute } from "../types.ts";
import { callerOf, chatAuthorizer, listed, mayUse, newThreadId, owns, type SharedThreads } from "./access.ts";
import type { AnswerMedia } from "./answer-media.ts";
import { assetRoutes, pageCsp } from "./assets.ts";
import type { LiveHub } from "./live-hub.ts";
import { MAX_MESSAGE_CHARS, sendMessage, sessionKey, WEBCHAT_ACCOUNT } from "./send.ts";
import { threadEditRoutes } from "./thread-edits.ts";
import { messageBodyLimit, type WebchatUploads } from "./uploads.ts";
import { type WsSessions, wsRoute } from "./ws.ts";

export { MAX_MESSAGE_CHARS, sessionKey, WEBCHAT_ACCOUNT } from "./send.ts";
/** Messages per page of GET /api/threads/:id/messages (and the default). */
export const MAX_PAGE = 1000;
const THREAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface WebchatAccess {
  devices: DeviceRegistry;
  shared: SharedThreads;
  sockets: WsSessions;
}

const WEB_DIR = fileURLToPath(new URL("../../../web/", import.meta.url));
const STATIC: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/assets/chat.js": ["chat.js", "text/javascript; charset=utf-8"],
  "/assets/chat.css": ["chat.css", "text/css; charset=utf-8"],
  "/assets/attachments.js": ["attachments.js", "text/javascript; charset=utf-8"],
  // Pairing this browser as a chat device (docs/webchat-api.md, "Paired devices").
  "/pair": ["pair.html", "text/html; charset=utf-8"],
  "/assets/pair.js": ["pair.js", "text/javascript; charset=utf-8"],
  "/assets/pair.css": ["pair.css", "text/css; charset=utf-8"],
};

export function webchatRoutes(
  ctx: ChannelContext,
  hub: LiveHub,
  token: string | undefined,
  files: { uploads: WebchatUploads; answers: AnswerMedia },
  access: WebchatAccess,
): WebhookRoute[] {
  const { uploads, answers } = files;
  const { shared } = access;
  const mediaFiles = new MediaStore(ctx.store);
  const authorize = chatAuthorizer(token, access.devices);
  const guard = (h: Handler): Handler => declareRoute(h, { kind: "webchat", authorize });
  const thread =
    (h: Handler): Handler =>
    async (req, res, c) => {
      const id = c.params.id ?? "";
      if (!THREAD_ID.test(id)) return sendError(res, 400, "thread id must be 1-64 of A-Z a-z 0-9 _ -");
      // Another device's thread is not disclosed: the same answer as a thread that does not exist.
      if (!(await mayUse(callerOf(c.caller), id, shared)))
        return sendError(res, 404, `no thread ${id} for this device`);
      return h(req, res, c);
    };
  const send = { ctx, hub, uploads };

  const routes: WebhookRoute[] = assetRoutes();
  routes.push(
    ...threadEditRoutes({
      ctx,
      hub,
      uploads,
      account: WEBCHAT_ACCOUNT,
      maxMessageChars: MAX_MESSAGE_CHARS,
      key: sessionKey,
      route: (h) => guard(thread(h)),
      sender: (caller, name) => messageSender(callerOf(caller), name),
    }),
  );
  routes.push(
    ...Object.entries(STATIC).map(([path, [file, type]]) => ({
      method: "GET" as const,
      path,
      kind: "webchat" as const,
      handler: (_req: IncomingMessage, res: ServerResponse) => {
        // Read per request: small files, and edits show without a restart.
        const body = readFileSync(WEB_DIR + file);
        res.writeHead(200, {
          "content-type": type,
          "content-length": body.length,
          "x-content-type-options": "nosniff",
          "cache-control": "no-cache",
          "content-security-policy": pageCsp(file === "index.html" ? body.toString("utf8") : ""),
        });
        res.end(body);
      },
    })),
  );

  routes.push(
    {
      method: "GET",
      path: "/api/threads",
      doc: {
        summary:
          "Lists the caller's threads (newest first, up to 200; a device also gets the shared ones); ?q= finds threads by title or message text",
        query: { q: "text a thread's title or messages contain (any case)" },
        response: {
          status: 200,
          example: {
            threads: [{ id: "a1b2c3d4e5f60718", title: "hello", lastMessage: "Hi!", shared: false }],
          },
        },
      },
      handler: guard(async (_req, res, { url, caller }) => {
        const who = callerOf(caller);
        // ?q= finds threads whose title or messages contain the text (case-insensitive).
        const q = url.searchParams.get("q")?.trim().slice(0, 200);
        const keyPrefix = `webchat:${WEBCHAT_ACCOUNT}:`;
        const [sessions, sharedIds] = await Promise.all([
          q
            ? searchThreads(ctx.store, keyPrefix, q)
            : ctx.store.listSessions({ prefix: keyPrefix, limit: 200 }),
          shared.all(),
        ]);
        const prefix = keyPrefix.length;
        sendJson(res, 200, {
          threads: sessions
            .map((s) => ({ s, id: s.key.slice(prefix) }))
            .filter(({ id }) => listed(who, id, sharedIds))
            .map(({ s, id }) => ({
              id,
              title: s.title,
              lastMessage: s.lastMessage,
              updatedAt: s.updatedAt,
              createdAt: s.createdAt,
              shared: sharedIds.has(id),
            })),
        });
      }),
    },
    {
      method: "POST",
      path: "/api/threads",
      bodyLimitBytes: 4096,
      doc: {
        summary: "Creates a thread (a device's thread id starts with its device id)",
        request: { title: "Trip plans" },
        response: {
          status: 201,
          example: { id: "a1b2c3d4e5f60718", title: "Trip plans", createdAt: 1764670000000 },
        },
      },
      handler: guard(async (_req, res, { body, caller }) => {
        const json = readJsonObject(body, { emptyIsObject: true });
        if (!json) return sendError(res, 400, "body must be a JSON object");
        const title = typeof json.title === "string" ? json.title.slice(0, 200) : undefined;
        const id = newThreadId(callerOf(caller), randomUUID().replace(/-/g, "").slice(0, 16));
        const s = await ctx.store.touchSession(sessionKey(id), title);
        sendJson(res, 201, { id, title: s.title, createdAt: s.createdAt });
      }),
    },
    {
      method: "DELETE",
      path: "/api/threads/:id",
      doc: {
        summary: "Deletes a thread and its history (a shared thread: the operator only)",
        response: { status: 200, example: { ok: true } },
      },
      handler: guard(
        thread(async (_req, res, { params, caller }) => {
          if (!owns(callerOf(caller), params.id!))
            return sendError(res, 403, "a shared thread is the operator's: only the operator deletes it");
          await ctx.store.deleteSession(sessionKey(params.id!));
          await shared.set(params.id!, false);
          sendJson(res, 200, { ok: true });
        }),
      ),
    },
    {
      method: "GET",
      path: "/api/threads/:id/messages",
      doc: {
        summary: "A page of the thread's history, and the messages still waiting for an answer",
        query: { after: "history row id to continue after", limit: `rows per page (1-${MAX_PAGE})` },
        response: {
          status: 200,
          example: {
            messages: [
              { id: 1, role: "user", content: "hello", eventId: "webchat:default:t1:c1", generation: 0 },
            ],
            pending: [],
            hasMore: false,
          },
        },
      },
      handler: guard(
        thread(async (_req, res, { params, url }) => {
          const after = Number(url.searchParams.get("after") ?? "");
          const asked = Number(url.searchParams.get("limit") ?? "");
          const limit = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_PAGE) : MAX_PAGE;
          const key = sessionKey(params.id!);
          const [page, inbox] = await Promise.all([
            // One more than asked tells whether another page follows.
            ctx.store.listMessages(key, {
              limit: limit + 1,
              ...(Number.isInteger(after) && after > 0 ? { afterId: after } : {}),
            }),
            ctx.store.listInbound({ sessionKey: key, limit: 50 }),
          ]);
          const messages = page.slice(0, limit);
          // An answer's pictures go with the first assistant row of that answer.
          const pictured = new Set<string>();
          const pending = inbox
            .filter((i) => i.state === "pending" || i.state === "leased")
            .reverse()
            .map((i) => ({ item: i, event: JSON.parse(i.payload) as InboundEvent }))
            // A button press is not a message the user wrote.
            .filter(({ event }) => !event.action)
            .map(({ item, event }) => ({
              eventId: event.id,
              text: event.text,
              ...(event.attachments.length
                ? {
                    attachments: event.attachments.map((a) => ({
                      name: a.name ?? "file",
                      mime: a.mime ?? "",
                    })),
                  }
                : {}),
              receivedAt: event.receivedAt,
              state: item.state,
              lastError: item.lastError,
            }));
          sendJson(res, 200, {
            messages: await Promise.all(
              messages.map(async (m) => {
                // Images a delivery kept for history (ComfyUI results, written as "system" messages by clawgate
                // itself); what users and agents wrote is taken as written.
                const { text, refs } =
                  m.role === "system" ? splitMediaRefs(m.content) : { text: m.content, refs: [] };
                // The files a user sent with a message are kept by its event id (uploads.ts).
                const firstAnswer = m.role === "assistant" && m.eventId && !pictured.has(m.eventId);
                if (firstAnswer) pictured.add(m.eventId!);
                const media = refs.length
                  ? await loadMediaRefs(mediaFiles, refs)
                  : m.role === "user" && m.eventId
                    ? await uploads.history(m.eventId)
                    : firstAnswer
                      ? await answers.history(m.eventId!)
                      : undefined;
                return {
                  id: m.id,
                  role: m.role,
                  content: text,
                  author: m.author,
                  eventId: m.eventId,
                  generation: m.generation,
                  createdAt: m.createdAt,
                  ...(media?.length ? { media } : {}),
                };
              }),
            ),
            pending,
            hasMore: page.length > limit,
          });
        }),
      ),
    },
    {
      method: "POST",
      path: "/api/threads/:id/messages",
      bodyLimitBytes: messageBodyLimit(ctx.config.media.inbound),
      doc: {
        summary:
          "Sends a message (with optional files) into the thread; the answer comes on the event stream",
        request: {
          text: "hello",
          clientMessageId: "c0ffee0123456789",
          attachments: [{ name: "photo.png", mime: "image/png", dataBase64: "iVBORw0KGgo…" }],
        },
        response: {
          status: 202,
          example: { ok: true, eventId: "webchat:default:t1:c0ffee0123456789", duplicate: false },
        },
      },
      handler: guard(
        thread(async (_req, res, { params, body, caller }) => {
          const json = readJsonObject(body, { emptyIsObject: true });
          if (!json) return sendError(res, 400, 'body must be a JSON object like {"text":"hello"}');
          const r = await sendMessage(send, params.id!, json, callerOf(caller));
          if (!r.ok) return sendError(res, r.status, r.error);
          sendJson(res, 202, { ok: true, eventId: r.eventId, duplicate: r.duplicate });
        }),
      ),
    },
    {
      method: "GET",
      path: "/api/threads/:id/events",
      doc: {
        summary: "Server-sent events of the thread: accepted, delta, reply, toast (see docs/webchat-api.md)",
        response: { status: 200, type: "text/event-stream" },
      },
      handler: guard(
        thread((_req, res, { params, caller }) => {
          const who = callerOf(caller);
          hub.subscribe(params.id!, res, who.kind === "device" ? who : undefined);
        }),
      ),
    },
    {
      method: "POST",
      path: "/api/threads/:id/share",
      bodyLimitBytes: 1024,
      doc: {
        summary:
          "Operator only: shares the thread with every device holding the chat scope, or stops sharing it",
        request: { shared: true },
        response: { status: 200, example: { ok: true, shared: true } },
      },
      handler: guard(
        thread(async (_req, res, { params, body, caller }) => {
          if (callerOf(caller).kind !== "operator")
            return sendError(res, 403, "only the operator (loopback or webchat.token) shares threads");
          const json = readJsonObject(body, { emptyIsObject: true });
          if (typeof json?.shared !== "boolean")
            return sendError(res, 400, 'give {"shared":true} or {"shared":false}');
          await shared.set(params.id!, json.shared);
          sendJson(res, 200, { ok: true, shared: json.shared });
        }),
      ),
    },
    {
      method: "POST",
      path: "/api/threads/:id/actions",
      bodyLimitBytes: 4096,
      doc: {
        summary: "Presses a button a reply carried",
        request: { value: "pair:approve:req_k3m9" },
        response: { status: 202, example: { ok: true, duplicate: false } },
      },
      handler: guard(
        thread(async (_req, res, { params, body, caller }) => {
          const json = readJsonObject(body, { emptyIsObject: true });
          const value = typeof json?.value === "string" ? json.value : "";
          if (!value || value.length > 200) return sendError(res, 400, "value must be the button's value");
          const id = randomUUID();
          const result = await ctx.ingest({
            id: `webchat:${WEBCHAT_ACCOUNT}:${params.id}:action:${id}`,
            channel: "webchat",
            account: WEBCHAT_ACCOUNT,
            conversation: { id: params.id!, kind: "dm" },
            sender: messageSender(callerOf(caller), "you"),
            text: "",
            attachments: [],
            action: { id, value },
            addressed: true,
            receivedAt: Date.now(),
          });
          sendJson(res, 202, { ok: true, duplicate: result === "duplicate" });
        }),
      ),
    },
    wsRoute({ send, hub, shared, sockets: access.sockets, guard, threadId: THREAD_ID }),
  );
  return routes;
}

/** Who pressed a button or resent a message: the operator, or the device by its id (never the operator's rights). */
function messageSender(caller: ReturnType<typeof callerOf>, name: string): InboundEvent["sender"] {
  return caller.kind === "device" ? { id: caller.deviceId, name: caller.name } : { id: "local", name };
}

/** Threads whose messages (the store's search) or title contain `q`, any case; newest first. */
async function searchThreads(store: ChannelContext["store"], prefix: string, q: string) {
  const [byText, recent] = await Promise.all([
    store.searchSessions({ prefix, text: q, limit: 200 }),
    store.listSessions({ prefix, limit: 200 }),
  ]);
  const lower = q.toLowerCase();
  const byTitle = recent.filter((s) => s.title?.toLowerCase().includes(lower));
  const all = new Map([...byText, ...byTitle].map((s) => [s.key, s]));
  return [...all.values()].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, 200);
}
