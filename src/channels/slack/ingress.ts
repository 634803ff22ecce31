// Slack Events API and interactivity requests: verify the v0 signature within the 5-minute window, answer
// url_verification, and turn message / app_mention events and block_actions presses into InboundEvents.
import type { IncomingHttpHeaders } from "node:http";
import type { Attachment, ConversationKind, InboundEvent } from "../../core/event.ts";
import { hmac, verifyDigest, withinWindow } from "../../security/hmac.ts";
import { decodeSlackText } from "./format.ts";

export const SLACK_WINDOW_SEC = 300;

export type SlackVerdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

/** X-Slack-Signature = "v0=" + hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body). */
export function verifySlackRequest(
  secret: string,
  headers: IncomingHttpHeaders,
  body: Buffer,
  nowMs = Date.now(),
): SlackVerdict {
  const ts = headers["x-slack-request-timestamp"];
  const sig = headers["x-slack-signature"];
  if (typeof ts !== "string" || typeof sig !== "string") {
    return { ok: false, status: 401, reason: "missing X-Slack-Signature or X-Slack-Request-Timestamp" };
  }
  if (!/^\d{1,12}$/.test(ts) || !withinWindow(Number(ts), SLACK_WINDOW_SEC, nowMs)) {
    return { ok: false, status: 403, reason: "stale request: timestamp is more than 5 minutes off" };
  }
  const expected = hmac("sha256", secret, Buffer.concat([Buffer.from(`v0:${ts}:`), body]));
  if (!sig.startsWith("v0=") || !verifyDigest(expected, sig.slice(3), "hex")) {
    return { ok: false, status: 401, reason: "invalid Slack signature" };
  }
  return { ok: true };
}

export interface SlackNormalizeOptions {
  account: string;
  botUserId?: string;
  requireMention: boolean;
  replyInThread: boolean;
  now?: number;
}

interface SlackFile {
  id?: string;
  name?: string;
  mimetype?: string;
  size?: number;
  url_private?: string;
}

const HANDLED_SUBTYPES = new Set([undefined, "file_share", "thread_broadcast"]);

function kindOf(channelType: unknown, channelId: string): ConversationKind {
  if (channelType === "im" || (!channelType && channelId.startsWith("D"))) return "dm";
  if (channelType === "mpim" || channelType === "group" || (!channelType && channelId.startsWith("G")))
    return "group";
  return "channel";
}

/** In channels a reply starts (or continues) a thread, and the thread is the session. DMs stay flat. */
function threadOf(kind: ConversationKind, threadTs: unknown, ts: unknown, replyInThread: boolean) {
  if (typeof threadTs === "string" && threadTs) return threadTs;
  if (replyInThread && kind !== "dm" && typeof ts === "string") return ts;
  return undefined;
}

/**
 * One event_callback → an InboundEvent, or undefined for what we do not handle (edits, bot messages, our own
 * messages, other event types). The id is channel + ts, not event_id: Slack sends both `message` and
 * `app_mention` (different event_ids) for one mention, and both must be one event; retries keep channel + ts.
 */
export function normalizeSlackEvent(
  payload: Record<string, unknown>,
  o: SlackNormalizeOptions,
): InboundEvent | undefined {
  const e = payload.event as Record<string, unknown> | undefined;
  if (!e || (e.type !== "message" && e.type !== "app_mention")) return undefined;
  if (e.bot_id || e.subtype === "bot_message" || !HANDLED_SUBTYPES.has(e.subtype as string | undefined))
    return undefined;
  const user = typeof e.user === "string" ? e.user : undefined;
  const channel = typeof e.channel === "string" ? e.channel : undefined;
  const ts = typeof e.ts === "string" ? e.ts : undefined;
  if (!user || !channel || !ts) return undefined;
  const botUserId = o.botUserId ?? botUserFromAuthorizations(payload);
  if (botUserId && user === botUserId) return undefined;

  const raw = typeof e.text === "string" ? e.text : "";
  const mentionRe = botUserId ? new RegExp(`<@${botUserId}(\\|[^>]*)?>`, "g") : undefined;
  const mentioned = e.type === "app_mention" || (mentionRe ? mentionRe.test(raw) : false);
  let text = mentionRe ? raw.replace(mentionRe, " ") : raw;
  // Without a known bot id, an app_mention still starts with the mention of the bot: drop that one.
  if (!mentionRe && e.type === "app_mention") text = text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>/, " ");
  text = decodeSlackText(text).trim();

  const kind = kindOf(e.channel_type, channel);
  const attachments: Attachment[] = Array.isArray(e.files)
    ? (e.files as SlackFile[]).map((f) => ({
        kind: f.mimetype?.startsWith("image/") ? "image" : "file",
        name: f.name,
        mime: f.mimetype,
        size: f.size,
        url: f.url_private,
        platformId: f.id,
      }))
    : [];
  return {
    id: `slack:${o.account}:${channel}:${ts}`,
    channel: "slack",
    account: o.account,
    conversation: { id: channel, kind, thread: threadOf(kind, e.thread_ts, ts, o.replyInThread) },
    sender: { id: user },
    text,
    attachments,
    addressed: kind === "dm" || mentioned || !o.requireMention,
    receivedAt: o.now ?? Date.now(),
    replyContext: { ts, user },
    native: payload,
  };
}

function botUserFromAuthorizations(payload: Record<string, unknown>): string | undefined {
  const auth = payload.authorizations;
  if (!Array.isArray(auth)) return undefined;
  const bot = auth.find((a) => a && typeof a === "object" && (a as { is_bot?: boolean }).is_bot);
  const id = (bot as { user_id?: unknown } | undefined)?.user_id;
  return typeof id === "string" ? id : undefined;
}

/** block_actions (a Block Kit button press) → an InboundEvent carrying the button's value. */
export function normalizeSlackAction(
  payload: Record<string, unknown>,
  o: SlackNormalizeOptions,
): InboundEvent | undefined {
  if (payload.type !== "block_actions") return undefined;
  const actions = Array.isArray(payload.actions) ? (payload.actions as Record<string, unknown>[]) : [];
  const action = actions[0];
  const user = (payload.user as { id?: unknown } | undefined)?.id;
  const container = (payload.container ?? {}) as Record<string, unknown>;
  const message = (payload.message ?? {}) as Record<string, unknown>;
  const channel = (payload.channel as { id?: unknown } | undefined)?.id ?? container.channel_id;
  if (!action || typeof action.value !== "string" || typeof user !== "string" || typeof channel !== "string")
    return undefined;
  const actionTs = typeof action.action_ts === "string" ? action.action_ts : String(o.now ?? Date.now());
  const kind = kindOf(undefined, channel);
  const messageTs = message.ts ?? container.message_ts;
  return {
    id: `slack:${o.account}:action:${channel}:${actionTs}:${user}`,
    channel: "slack",
    account: o.account,
    conversation: {
      id: channel,
      kind,
      thread: threadOf(kind, message.thread_ts ?? container.thread_ts, messageTs, o.replyInThread),
    },
    sender: { id: user },
    text: "",
    attachments: [],
    action: { id: actionTs, value: action.value },
    addressed: true,
    receivedAt: o.now ?? Date.now(),
    replyContext: { user, messageTs, responseUrl: payload.response_url },
    native: payload,
  };
}
