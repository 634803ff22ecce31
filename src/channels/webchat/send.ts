// Sending a message into a thread: shared by POST /api/threads/:id/messages and the WebSocket's `send` frame, so
// both check, store and announce a message the same way.
import { randomUUID } from "node:crypto";
import { lexCommand } from "../../core/command-lexer.ts";
import type { InboundEvent } from "../../core/event.ts";
import type { ChannelContext } from "../types.ts";
import type { ChatCaller } from "./access.ts";
import type { LiveHub } from "./live-hub.ts";
import { readUploads, type WebchatUploads } from "./uploads.ts";

export const WEBCHAT_ACCOUNT = "default";
export const MAX_MESSAGE_CHARS = 16_000;

export const sessionKey = (thread: string) => `webchat:${WEBCHAT_ACCOUNT}:${thread}`;

export type SendResult =
  | { ok: true; eventId: string; duplicate: boolean }
  | { ok: false; status: number; error: string };

export interface SendDeps {
  ctx: ChannelContext;
  hub: LiveHub;
  uploads: WebchatUploads;
}

/** Takes `{text, clientMessageId?, attachments?, userId?, userName?}` for `thread` (already checked as usable). */
export async function sendMessage(
  deps: SendDeps,
  thread: string,
  json: Record<string, unknown>,
  caller: ChatCaller,
): Promise<SendResult> {
  const { ctx, hub, uploads } = deps;
  const text = typeof json.text === "string" ? json.text : "";
  const files = readUploads(json.attachments, ctx.config.media.inbound);
  if (!Array.isArray(files)) return { ok: false, status: files.status, error: files.error };
  if (!text.trim() && !files.length)
    return { ok: false, status: 400, error: "text must be a non-empty string (or send attachments)" };
  if (text.length > MAX_MESSAGE_CHARS)
    return {
      ok: false,
      status: 413,
      error: `text is ${text.length} characters; the limit is ${MAX_MESSAGE_CHARS}`,
    };
  const clientId = typeof json.clientMessageId === "string" ? json.clientMessageId : randomUUID();
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(clientId))
    return { ok: false, status: 400, error: "clientMessageId must be 8-64 of A-Z a-z 0-9 _ -" };
  const lexed = lexCommand(text);
  const id = `webchat:${WEBCHAT_ACCOUNT}:${thread}:${clientId}`;
  const attachments = await uploads.keep(thread, sessionKey(thread), id, files);
  const event: InboundEvent = {
    id,
    channel: "webchat",
    account: WEBCHAT_ACCOUNT,
    conversation: { id: thread, kind: "dm" },
    sender: webchatSender(json, caller),
    text,
    command: lexed.kind === "command" ? lexed.command : undefined,
    attachments,
    addressed: true,
    receivedAt: Date.now(),
  };
  // A thread is titled by its first message; a command such as /new is no title. The session's upsert and the
  // event's enqueue are started together, so they share one group commit (one transaction, one fsync).
  const title = text.trim() || files.map((f) => f.name).join(", ");
  const [result] = await Promise.all([
    ctx.ingest(event),
    ctx.store.ensureSession(sessionKey(thread), lexed.kind === "none" ? title.slice(0, 60) : undefined),
  ]);
  if (result === "accepted") {
    const names = attachments.map((a) => ({ name: a.name ?? "file", mime: a.mime ?? "" }));
    hub.publish(thread, {
      type: "accepted",
      eventId: event.id,
      text,
      ...(names.length ? { attachments: names } : {}),
    });
  }
  return { ok: true, eventId: event.id, duplicate: result === "duplicate" };
}

/**
 * Who wrote a web chat message. A paired device is itself (`webchat:<deviceId>` in admin and allow-from lists).
 * Otherwise, without a `userId` it is the operator ("local"); a `userId` is the caller's own claim, so it is
 * marked self-asserted: admin and allow-from lists match it only as `webchat:<id>`.
 */
function webchatSender(json: Record<string, unknown>, caller: ChatCaller): InboundEvent["sender"] {
  const name = typeof json.userName === "string" ? json.userName.slice(0, 64) : "you";
  if (caller.kind === "device") return { id: caller.deviceId, name: caller.name };
  const claimed = typeof json.userId === "string" ? json.userId.slice(0, 64) : "";
  if (!claimed || claimed === "local") return { id: "local", name };
  return { id: claimed, name, selfAsserted: true };
}
