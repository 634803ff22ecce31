// The web chat's thread edits (docs/webchat-api.md): stop the answer being written, regenerate the last answer,
// edit a sent message and resend it, rename a thread. Regenerate and edit *replace* history: the messages from
// the edited (or last) user message on are deleted and the message is asked again as a new event, so the agent
// sees only the new line of the conversation. Both refuse while an answer is still being written (stop it first):
// a reply committed after the cut would land in the replaced history.
import { randomUUID } from "node:crypto";
import type { InboundEvent } from "../../core/event.ts";
import { readJsonObject } from "../../http/json-body.ts";
import { sendError, sendJson } from "../../http/respond.ts";
import type { Handler } from "../../http/router.ts";
import type { StoredMessage } from "../../store/types.ts";
import type { ChannelContext, WebhookRoute } from "../types.ts";
import type { LiveHub } from "./live-hub.ts";
import type { WebchatUploads } from "./uploads.ts";

export const MAX_TITLE_CHARS = 200;
/** How long POST /stop waits for the cancelled answer to be committed, so the page's next fetch shows it. */
const STOP_SETTLE_MS = 5000;

export interface EditDeps {
  ctx: ChannelContext;
  hub: LiveHub;
  uploads: WebchatUploads;
  account: string;
  maxMessageChars: number;
  key: (thread: string) => string;
  /** Auth and thread-id checks (api.ts). */
  route: (h: Handler) => Handler;
  /** Who a resent message is from: the caller the route authorized (a paired device stays that device). */
  sender: (caller: unknown, name: string) => InboundEvent["sender"];
}

export function threadEditRoutes(d: EditDeps): WebhookRoute[] {
  const { ctx, hub } = d;
  /** The thread must exist: edits of an unknown thread are mistakes, not creations. */
  const known =
    (h: (thread: string, ...a: Parameters<Handler>) => ReturnType<Handler>): Handler =>
    async (req, res, c) => {
      const thread = c.params.id!;
      if (!(await ctx.store.getSession(d.key(thread)))) {
        return sendError(res, 404, `no thread ${thread}: list threads with GET /api/threads`);
      }
      return h(thread, req, res, c);
    };

  const busy = async (thread: string) =>
    (await ctx.store.listInbound({ sessionKey: d.key(thread), limit: 50 })).some(
      (i) => i.state === "pending" || i.state === "leased",
    );

  /** Deletes history from `from` on and asks its text again (with the files it carried) as a new event. */
  const resend = async (thread: string, from: StoredMessage, text: string, caller: unknown) => {
    const key = d.key(thread);
    const removed = await ctx.store.deleteMessagesFrom(key, from.id);
    hub.publish(thread, { type: "truncated", fromId: from.id });
    const id = `webchat:${d.account}:${thread}:${randomUUID().replace(/-/g, "")}`;
    const attachments = from.eventId ? await d.uploads.carry(thread, from.eventId, id) : [];
    const event: InboundEvent = {
      id,
      channel: "webchat",
      account: d.account,
      conversation: { id: thread, kind: "dm" },
      sender: d.sender(caller, from.author ?? "you"),
      text,
      attachments,
      addressed: true,
      receivedAt: Date.now(),
    };
    const result = await ctx.ingest(event);
    if (result === "accepted") {
      const names = attachments.map((a) => ({ name: a.name ?? "file", mime: a.mime ?? "" }));
      hub.publish(thread, {
        type: "accepted",
        eventId: id,
        text,
        ...(names.length ? { attachments: names } : {}),
      });
    }
    return { ok: true, eventId: id, removed };
  };

  const refuseWhileBusy =
    "an answer is still being written in this thread: stop it first (POST /api/threads/:id/stop)";

  return [
    {
      method: "PATCH",
      path: "/api/threads/:id",
      bodyLimitBytes: 4096,
      doc: {
        summary: "Renames a thread (an empty title clears it)",
        request: { title: "Trip plans" },
        response: { status: 200, example: { id: "a1b2c3d4e5f60718", title: "Trip plans" } },
      },
      handler: d.route(
        known(async (thread, _req, res, { body }) => {
          const json = readJsonObject(body, { emptyIsObject: true });
          const title = typeof json?.title === "string" ? json.title.trim() : undefined;
          if (title === undefined) return sendError(res, 400, 'body must be like {"title":"Trip plans"}');
          if (title.length > MAX_TITLE_CHARS) {
            return sendError(
              res,
              413,
              `title is ${title.length} characters; the limit is ${MAX_TITLE_CHARS}`,
            );
          }
          const s = await ctx.store.renameSession(d.key(thread), title || null);
          sendJson(res, 200, { id: thread, title: s?.title ?? null });
        }),
      ),
    },
    {
      method: "POST",
      path: "/api/threads/:id/stop",
      bodyLimitBytes: 1024,
      doc: {
        summary: "Stops the answer being written; what was written so far is kept",
        request: {},
        response: { status: 200, example: { stopped: true, eventId: "webchat:default:t1:c0ffee0123456789" } },
      },
      handler: d.route(
        known(async (thread, _req, res) => {
          const key = d.key(thread);
          const leased = (await ctx.store.listInbound({ sessionKey: key, state: "leased", limit: 5 }))[0];
          const stopped = ctx.cancelReply?.(key) ?? false;
          if (stopped && leased) {
            // The cancelled answer commits the user's message; wait for that so the page's refresh shows it.
            const until = Date.now() + STOP_SETTLE_MS;
            while (Date.now() < until && (await ctx.store.getInbound(leased.id))?.state === "leased") {
              await new Promise((r) => setTimeout(r, 25));
            }
            hub.publish(thread, { type: "stopped", eventId: leased.id });
          }
          sendJson(res, 200, { stopped, ...(stopped && leased ? { eventId: leased.id } : {}) });
        }),
      ),
    },
    {
      method: "POST",
      path: "/api/threads/:id/regenerate",
      bodyLimitBytes: 1024,
      doc: {
        summary: "Answers the last message again: history from it on is replaced",
        request: {},
        response: { status: 202, example: { ok: true, eventId: "webchat:default:t1:9f1c…", removed: 2 } },
      },
      handler: d.route(
        known(async (thread, _req, res, { caller }) => {
          if (await busy(thread)) return sendError(res, 409, refuseWhileBusy);
          const key = d.key(thread);
          const session = await ctx.store.getSession(key);
          const recent = await ctx.store.listMessages(key, { generation: session?.generation, last: 200 });
          const last = recent.findLast((m) => m.role === "user");
          if (!last)
            return sendError(res, 409, "there is no message of yours in this conversation to answer again");
          sendJson(res, 202, await resend(thread, last, last.content, caller));
        }),
      ),
    },
    {
      method: "POST",
      path: "/api/threads/:id/messages/:messageId/edit",
      bodyLimitBytes: 4 * d.maxMessageChars + 1024,
      doc: {
        summary: "Edits a sent message and asks it again: history from it on is replaced",
        request: { text: "the corrected message" },
        response: { status: 202, example: { ok: true, eventId: "webchat:default:t1:9f1c…", removed: 2 } },
      },
      handler: d.route(
        known(async (thread, _req, res, { params, body, caller }) => {
          const json = readJsonObject(body, { emptyIsObject: true });
          const text = typeof json?.text === "string" ? json.text : "";
          if (!text.trim()) return sendError(res, 400, 'body must be like {"text":"the corrected message"}');
          if (text.length > d.maxMessageChars) {
            return sendError(
              res,
              413,
              `text is ${text.length} characters; the limit is ${d.maxMessageChars}`,
            );
          }
          const id = Number(params.messageId);
          const [m] =
            Number.isSafeInteger(id) && id > 0
              ? await ctx.store.listMessages(d.key(thread), { afterId: id - 1, limit: 1 })
              : [];
          if (m?.id !== id) return sendError(res, 404, `no message ${params.messageId} in thread ${thread}`);
          if (m.role !== "user") return sendError(res, 400, "only your own messages can be edited");
          if (await busy(thread)) return sendError(res, 409, refuseWhileBusy);
          sendJson(res, 202, await resend(thread, m, text, caller));
        }),
      ),
    },
  ];
}
