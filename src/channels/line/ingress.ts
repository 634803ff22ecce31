// LINE webhooks: X-Line-Signature = base64 HMAC-SHA256(channel secret, raw body), required on every request
// (even the console's "Verify" with no events). Text messages and postbacks become InboundEvents keyed by
// webhookEventId, so a redelivery is a duplicate.
import type { IncomingHttpHeaders } from "node:http";
import type { ConversationKind, InboundEvent } from "../../core/event.ts";
import { hmac, verifyDigest } from "../../security/hmac.ts";

export type LineVerdict = { ok: true } | { ok: false; status: 401; reason: string };

export function lineSignature(secret: string, body: Buffer | string): string {
  return hmac("sha256", secret, body).toString("base64");
}

export function verifyLineRequest(secret: string, headers: IncomingHttpHeaders, body: Buffer): LineVerdict {
  const presented = headers["x-line-signature"];
  if (typeof presented !== "string" || !presented) {
    return { ok: false, status: 401, reason: "missing X-Line-Signature" };
  }
  if (!verifyDigest(hmac("sha256", secret, body), presented, "base64")) {
    return { ok: false, status: 401, reason: "invalid LINE signature" };
  }
  return { ok: true };
}

interface LineSource {
  type?: string;
  userId?: string;
  groupId?: string;
  roomId?: string;
}

interface Mentionee {
  index: number;
  length: number;
  isSelf?: boolean;
}

function conversationOf(source: LineSource): { id: string; kind: ConversationKind } | undefined {
  if (source.type === "user" && source.userId) return { id: source.userId, kind: "dm" };
  if (source.type === "group" && source.groupId) return { id: source.groupId, kind: "group" };
  if (source.type === "room" && source.roomId) return { id: source.roomId, kind: "group" };
  return undefined;
}

/** Removes mentions of the bot itself from the text (LINE gives their index and length). */
function withoutSelfMentions(text: string, mentionees: Mentionee[]): string {
  let out = text;
  for (const m of [...mentionees].filter((m) => m.isSelf).sort((a, b) => b.index - a.index)) {
    out = out.slice(0, m.index) + out.slice(m.index + m.length);
  }
  return out.trim();
}

export function normalizeLineEvent(
  e: Record<string, unknown>,
  o: { account: string; requireMention: boolean; now?: number },
): InboundEvent | undefined {
  const source = (e.source ?? {}) as LineSource;
  const conversation = conversationOf(source);
  const eventId = typeof e.webhookEventId === "string" ? e.webhookEventId : undefined;
  if (!conversation || !eventId || e.mode === "standby") return undefined;
  const base = {
    id: `line:${o.account}:${eventId}`,
    channel: "line",
    account: o.account,
    conversation,
    sender: { id: source.userId ?? "unknown" },
    attachments: [],
    receivedAt: o.now ?? Date.now(),
    replyContext:
      typeof e.replyToken === "string"
        ? {
            replyToken: e.replyToken,
            replyTokenAt: typeof e.timestamp === "number" ? e.timestamp : Date.now(),
          }
        : undefined,
    native: e,
  };
  if (e.type === "postback") {
    const data = (e.postback as { data?: unknown } | undefined)?.data;
    if (typeof data !== "string") return undefined;
    return { ...base, text: "", action: { id: eventId, value: data }, addressed: true };
  }
  if (e.type !== "message") return undefined;
  const message = (e.message ?? {}) as {
    type?: string;
    id?: string;
    text?: string;
    mention?: { mentionees?: Mentionee[] };
  };
  if (message.type !== "text" || typeof message.text !== "string") return undefined;
  const mentionees = message.mention?.mentionees ?? [];
  const mentioned = mentionees.some((m) => m.isSelf);
  return {
    ...base,
    text: withoutSelfMentions(message.text, mentionees),
    addressed: conversation.kind === "dm" || mentioned || !o.requireMention,
  };
}
