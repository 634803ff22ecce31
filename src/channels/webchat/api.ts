// The web chat's HTTP API (documented in docs/webchat-api.md). Loopback callers need nothing; anyone else
// (including anyone a local reverse proxy forwards for) needs the bearer token (webchat.token /
// CLAWGATE_WEBCHAT_TOKEN). Threads are sessions `webchat:default:<id>`.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";
import { lexCommand } from "../../core/command-lexer.ts";
import type { InboundEvent } from "../../core/event.ts";
import { readJsonObject } from "../../http/json-body.ts";
import { bearerToken, isLocalRequest, safeEqual, sendError, sendJson } from "../../http/respond.ts";
import { type Authorize, declareRoute, type Handler } from "../../http/router.ts";
import { loadMediaRefs, splitMediaRefs } from "../../media/history-refs.ts";
import { MediaStore } from "../../media/store.ts";
import { FailureLimiter } from "../../security/failure-limiter.ts";
import type { ChannelContext, WebhookRoute } from "../types.ts";
import type { AnswerMedia } from "./answer-media.ts";
import { assetRoutes, pageCsp } from "./assets.ts";
import type { LiveHub } from "./live-hub.ts";
import { threadEditRoutes } from "./thread-edits.ts";
import { messageBodyLimit, readUploads, type WebchatUploads } from "./uploads.ts";

export const WEBCHAT_ACCOUNT = "default";
export const MAX_MESSAGE_CHARS = 16_000;
/** Messages per page of GET /api/threads/:id/messages (and the default). */
export const MAX_PAGE = 1000;
const THREAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const sessionKey = (thread: string) => `webchat:${WEBCHAT_ACCOUNT}:${thread}`;

/**
 * The API's `authorize` step: loopback callers no proxy relayed, or the bearer token; decided before any body is
 * read. Wrong tokens are counted per address: after 10 in a minute that address is refused (429) until the
 * window passes, a right token too. A missing token is not a guess and is not counted (a page opened without
 * its #token makes a few such calls).
 */
export function authorizer(token: string | undefined): Authorize {
  const failures = new FailureLimiter(10, 60_000);
  return (req) => {
    if (isLocalRequest(req)) return { ok: true };
    const ip = req.socket.remoteAddress ?? "unknown";
    const blocked = failures.refusal(ip, "wrong web chat tokens from this address");
    if (blocked) return blocked;
    const presented = bearerToken(req);
    if (token && presented && safeEqual(presented, token)) return { ok: true };
    if (presented) failures.fail(ip);
    return {
      ok: false,
      status: 401,
      error: token
        ? "web chat token required: send Authorization: Bearer <webchat.token>"
        : "the web chat is loopback-only until webchat.token (CLAWGATE_WEBCHAT_TOKEN) is set",
    };
  };
}

const WEB_DIR = fileURLToPath(new URL("../../../web/", import.meta.url));
const STATIC: Record<string, [string, string]> = {
  "/": ["index.html", "text/html; charset=utf-8"],
  "/assets/chat.js": ["chat.js", "text/javascript; charset=utf-8"],
  "/assets/chat.css": ["chat.css", "text/css; charset=utf-8"],
  "/assets/attachments.js": ["attachments.js", "text/javascript; charset=utf-8"],
};

export function webchatRoutes(
  ctx: ChannelContext,
  hub: LiveHub,
  token: string | undefined,
  files: { uploads: WebchatUploads; answers: AnswerMedia },
): WebhookRoute[] {
  const { uploads, answers } = files;
  const mediaFiles = new MediaStore(ctx.store);
  const authorize = authorizer(token);
  const guard = (h: Handler): Handler => declareRoute(h, { kind: "webchat", authorize });
  const thread =
    (h: Handler): Handler =>
    (req, res, c) => {
      if (!THREAD_ID.test(c.params.id ?? ""))
        return sendError(res, 400, "thread id must be 1-64 of A-Z a-z 0-9 _ -");
      return h(req, res, c);
    };

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
      handler: guard(async (_req, res, { url }) => {
        // ?q= finds threads whose title or messages contain the text (case-insensitive).
        const q = url.searchParams.get("q")?.trim().slice(0, 200);
        const prefix = `webchat:${WEBCHAT_ACCOUNT}:`;
        const sessions = q
          ? await searchThreads(ctx.store, prefix, q)
          : await ctx.store.listSessions({ prefix, limit: 200 });
        sendJson(res, 200, {
          threads: sessions.map((s) => ({
            id: s.key.slice(`webchat:${WEBCHAT_ACCOUNT}:`.length),
            title: s.title,
            lastMessage: s.lastMessage,
            updatedAt: s.updatedAt,
            createdAt: s.createdAt,
          })),
        });
      }),
    },
    {
      method: "POST",
      path: "/api/threads",
      bodyLimitBytes: 4096,
      handler: guard(async (_req, res, { body }) => {
        const json = readJsonObject(body, { emptyIsObject: true });
        if (!json) return sendError(res, 400, "body must be a JSON object");
        const title = typeof json.title === "string" ? json.title.slice(0, 200) : undefined;
        const id = randomUUID().replace(/-/g, "").slice(0, 16);
        const s = await ctx.store.touchSession(sessionKey(id), title);
        sendJson(res, 201, { id, title: s.title, createdAt: s.createdAt });
      }),
    },
    {
      method: "DELETE",
      path: "/api/threads/:id",
      handler: guard(
        thread(async (_req, res, { params }) => {
          await ctx.store.deleteSession(sessionKey(params.id!));
          sendJson(res, 200, { ok: true });
        }),
      ),
    },
    {
      method: "GET",
      path: "/api/threads/:id/messages",
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
      handler: guard(
        thread(async (_req, res, { params, body }) => {
          const json = readJsonObject(body, { emptyIsObject: true });
          if (!json) return sendError(res, 400, 'body must be a JSON object like {"text":"hello"}');
          const text = typeof json.text === "string" ? json.text : "";
          const files = readUploads(json.attachments, ctx.config.media.inbound);
          if (!Array.isArray(files)) return sendError(res, files.status, files.error);
          if (!text.trim() && !files.length)
            return sendError(res, 400, "text must be a non-empty string (or send attachments)");
          if (text.length > MAX_MESSAGE_CHARS) {
            return sendError(
              res,
              413,
              `text is ${text.length} characters; the limit is ${MAX_MESSAGE_CHARS}`,
            );
          }
          const clientId = typeof json.clientMessageId === "string" ? json.clientMessageId : randomUUID();
          if (!/^[A-Za-z0-9_-]{8,64}$/.test(clientId)) {
            return sendError(res, 400, "clientMessageId must be 8-64 of A-Z a-z 0-9 _ -");
          }
          const lexed = lexCommand(text);
          const id = `webchat:${WEBCHAT_ACCOUNT}:${params.id}:${clientId}`;
          const attachments = await uploads.keep(params.id!, sessionKey(params.id!), id, files);
          const event: InboundEvent = {
            id,
            channel: "webchat",
            account: WEBCHAT_ACCOUNT,
            conversation: { id: params.id!, kind: "dm" },
            sender: webchatSender(json),
            text,
            command: lexed.kind === "command" ? lexed.command : undefined,
            attachments,
            addressed: true,
            receivedAt: Date.now(),
          };
          // A thread is titled by its first message; a command such as /new is no title.
          const title = text.trim() || files.map((f) => f.name).join(", ");
          await ctx.store.touchSession(
            sessionKey(params.id!),
            lexed.kind === "none" ? title.slice(0, 60) : undefined,
          );
          const result = await ctx.ingest(event);
          if (result === "accepted") {
            const names = attachments.map((a) => ({ name: a.name ?? "file", mime: a.mime ?? "" }));
            hub.publish(params.id!, {
              type: "accepted",
              eventId: event.id,
              text,
              ...(names.length ? { attachments: names } : {}),
            });
          }
          sendJson(res, 202, { ok: true, eventId: event.id, duplicate: result === "duplicate" });
        }),
      ),
    },
    {
      method: "GET",
      path: "/api/threads/:id/events",
      handler: guard(
        thread((_req, res, { params }) => {
          hub.subscribe(params.id!, res);
        }),
      ),
    },
    {
      method: "POST",
      path: "/api/threads/:id/actions",
      bodyLimitBytes: 4096,
      handler: guard(
        thread(async (_req, res, { params, body }) => {
          const json = readJsonObject(body, { emptyIsObject: true });
          const value = typeof json?.value === "string" ? json.value : "";
          if (!value || value.length > 200) return sendError(res, 400, "value must be the button's value");
          const id = randomUUID();
          const result = await ctx.ingest({
            id: `webchat:${WEBCHAT_ACCOUNT}:${params.id}:action:${id}`,
            channel: "webchat",
            account: WEBCHAT_ACCOUNT,
            conversation: { id: params.id!, kind: "dm" },
            sender: { id: "local", name: "you" },
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
  );
  return routes;
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

/**
 * Who wrote a web chat message. Without a `userId` it is the operator ("local"). A `userId` is the caller's own
 * claim, so it is marked self-asserted: admin and allow-from lists match it only as `webchat:<id>`.
 */
function webchatSender(json: Record<string, unknown>): InboundEvent["sender"] {
  const name = typeof json.userName === "string" ? json.userName.slice(0, 64) : "you";
  const claimed = typeof json.userId === "string" ? json.userId.slice(0, 64) : "";
  if (!claimed || claimed === "local") return { id: "local", name };
  return { id: claimed, name, selfAsserted: true };
}
