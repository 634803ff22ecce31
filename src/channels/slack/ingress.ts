// Slack Events API and interactivity requests: verify the v0 signature within the 5-minute window, answer
// url_verification, and turn message / app_mention events and block_actions presses into InboundEvents. The
// payload's shape is checked before it is read: a malformed event is reported as unreadable (the caller logs and
// acknowledges it), never a crash and never an id with "undefined" or an empty sender or conversation.
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import {
  type Attachment,
  type AttachmentKind,
  type ConversationKind,
  type InboundEvent,
  sentAtFrom,
} from "../../core/event.ts";
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

/** What became of a payload: an event, nothing for us, or a payload whose fields have the wrong shape. */
export type SlackNormalized =
  | { kind: "event"; event: InboundEvent }
  | { kind: "ignored" }
  | { kind: "unreadable"; reason: string };

/**
 * Slack's ids (U…, W…, C…, D…, G…) are upper-case letters and digits; ts is "seconds.micros". Anything else,
 * a ":" above all, would make event ids ambiguous ("C:1" + "2" and "C" + "1:2"), so it is not read.
 */
const slackId = z.string().regex(/^[A-Za-z0-9_-]+$/, "not a Slack id");
const slackTs = z.string().regex(/^\d+(\.\d+)?$/, "not a Slack ts");

const fileSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  title: z.string().optional(),
  mimetype: z.string().optional(),
  size: z.number().optional(),
  url_private: z.string().optional(),
  /** "slack_audio" for an audio clip (a voice message), "slack_video" for a video clip. */
  subtype: z.string().optional(),
  /** "tombstone" (deleted) and "hidden_by_limit" (past a free workspace's history) carry no file. */
  mode: z.string().optional(),
});

/** A message / app_mention event, as far as clawgate reads it. */
const messageEventSchema = z.object({
  type: z.enum(["message", "app_mention"]),
  subtype: z.string().optional(),
  user: slackId,
  channel: slackId,
  channel_type: z.string().optional(),
  text: z.string().optional(),
  ts: slackTs,
  thread_ts: slackTs.optional(),
  files: z.array(fileSchema).optional(),
});

const blockActionsSchema = z.object({
  type: z.literal("block_actions"),
  user: z.object({ id: slackId }),
  actions: z.array(z.object({ value: z.string().optional(), action_ts: slackTs.optional() })),
  channel: z.object({ id: slackId }).optional(),
  container: z
    .object({
      channel_id: slackId.optional(),
      message_ts: slackTs.optional(),
      thread_ts: slackTs.optional(),
    })
    .optional(),
  message: z.object({ ts: slackTs.optional(), thread_ts: slackTs.optional() }).optional(),
  response_url: z.string().optional(),
});

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
  if (replyInThread && kind !== "dm" && typeof ts === "string" && ts) return ts;
  return undefined;
}

function issues(error: z.ZodError, prefix: string): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${[prefix, ...i.path].join(".")}: ${i.message}`)
    .join("; ");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The envelope's event_time (Unix seconds) as InboundEvent.sentAt, when it is a usable number. */
function sentAtOf(payload: Record<string, unknown>): { sentAt?: number } {
  const t = payload.event_time;
  const sentAt = sentAtFrom(t, "s");
  return sentAt === undefined ? {} : { sentAt };
}

/**
 * One event_callback → an InboundEvent, or ignored for what we do not handle (edits, bot messages, our own
 * messages, other event types). The id is channel + ts, not event_id: Slack sends both `message` and
 * `app_mention` (different event_ids) for one mention, and both must be one event; retries keep channel + ts.
 */
export function normalizeSlackEvent(
  payload: Record<string, unknown>,
  o: SlackNormalizeOptions,
): SlackNormalized {
  const raw = payload.event;
  if (!isRecord(raw)) return { kind: "unreadable", reason: "event: not an object" };
  // Other event types (user_change, team_join …) have other shapes, and bot messages carry no user: decided on
  // before the message's own fields are checked.
  if (raw.type !== "message" && raw.type !== "app_mention") return { kind: "ignored" };
  if (raw.bot_id || raw.subtype === "bot_message") return { kind: "ignored" };
  if (typeof raw.subtype === "string" ? !HANDLED_SUBTYPES.has(raw.subtype) : raw.subtype !== undefined)
    return { kind: "ignored" };
  const parsed = messageEventSchema.safeParse(raw);
  if (!parsed.success) return { kind: "unreadable", reason: issues(parsed.error, "event") };
  const e = parsed.data;
  const { user, channel, ts } = e;
  const botUserId = o.botUserId ?? botUserFromAuthorizations(payload);
  if (botUserId && user === botUserId) return { kind: "ignored" };

  const text0 = e.text ?? "";
  const mentionRe = botUserId ? mentionOf(botUserId) : undefined;
  const mentioned = e.type === "app_mention" || (mentionRe ? mentionRe.test(text0) : false);
  let text = mentionRe ? text0.replace(mentionRe, " ") : text0;
  // Without a known bot id, an app_mention still starts with the mention of the bot: drop that one.
  if (!mentionRe && e.type === "app_mention") text = text.replace(/^\s*<@[A-Z0-9]+(\|[^>]*)?>/, " ");
  text = decodeSlackText(text).trim();

  const kind = kindOf(e.channel_type, channel);
  const attachments = (e.files ?? []).flatMap(slackAttachment);
  return {
    kind: "event",
    event: {
      // Time first: Slack's ts orders ids by time across channels, so the inbox's dedup index takes each new id
      // at its right edge; channel first put every busy channel's newest id on a page of its own, rewritten by
      // each group commit (bench/ingest: a quarter of the CPU per event). Ids before 2026-12-02 were channel first.
      id: `slack:${o.account}:${ts}:${channel}`,
      formerId: `slack:${o.account}:${channel}:${ts}`,
      channel: "slack",
      account: o.account,
      conversation: { id: channel, kind, thread: threadOf(kind, e.thread_ts, ts, o.replyInThread) },
      sender: { id: user },
      text,
      attachments,
      addressed: kind === "dm" || mentioned || !o.requireMention,
      receivedAt: o.now ?? Date.now(),
      ...sentAtOf(payload),
      replyContext: { ts, user },
      native: { event_id: payload.event_id, team_id: payload.team_id, channel, ts },
    },
  };
}

/**
 * One entry of a message's `files`. Slack Connect files may come as a stub (`file_access: "check_file_info"`)
 * with only the id: fetchAttachment then asks files.info for the rest.
 */
function slackAttachment(f: z.output<typeof fileSchema>): Attachment[] {
  if (f.mode === "tombstone" || f.mode === "hidden_by_limit") return [];
  if (!f.url_private && !f.id) return [];
  const mime = f.mimetype || undefined;
  return [
    {
      kind: fileKind(f.subtype, mime),
      ...(mime ? { mime } : {}),
      ...(f.name || f.title ? { name: f.name || f.title } : {}),
      ...(f.size !== undefined ? { size: f.size } : {}),
      ...(f.url_private ? { url: f.url_private } : {}),
      ...(f.id ? { platformId: f.id } : {}),
    },
  ];
}

/** An audio clip recorded in Slack is a voice message; other audio (an uploaded .mp3) is audio. */
function fileKind(subtype: string | undefined, mime: string | undefined): AttachmentKind {
  if (subtype === "slack_audio") return "voice";
  const top = mime?.split("/")[0];
  if (top === "image" || top === "audio" || top === "video") return top;
  return "file";
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// The bot's mention pattern, built once per bot id rather than once per event (one entry: an account has one
// bot). The id may come from the payload (authorizations): escaped, so "(" or "*" in it is matched as itself.
// The pattern is global and shared: it is handed out with lastIndex at 0, so `test` starts at the beginning
// (`replace` with a global pattern starts there by itself).
let lastMention: { botUserId: string; re: RegExp } | undefined;
function mentionOf(botUserId: string): RegExp {
  if (lastMention?.botUserId !== botUserId)
    lastMention = { botUserId, re: new RegExp(`<@${escapeRe(botUserId)}(\\|[^>]*)?>`, "g") };
  lastMention.re.lastIndex = 0;
  return lastMention.re;
}

function botUserFromAuthorizations(payload: Record<string, unknown>): string | undefined {
  const auth = payload.authorizations;
  if (!Array.isArray(auth)) return undefined;
  const bot = auth.find((a) => isRecord(a) && a.is_bot === true);
  const id = (bot as { user_id?: unknown } | undefined)?.user_id;
  return typeof id === "string" && id ? id : undefined;
}

/** block_actions (a Block Kit button press) → an InboundEvent carrying the button's value. */
export function normalizeSlackAction(
  payload: Record<string, unknown>,
  o: SlackNormalizeOptions,
): SlackNormalized {
  if (payload.type !== "block_actions") return { kind: "ignored" };
  const parsed = blockActionsSchema.safeParse(payload);
  if (!parsed.success) return { kind: "unreadable", reason: issues(parsed.error, "payload") };
  const p = parsed.data;
  const action = p.actions[0];
  const user = p.user.id;
  const channel = p.channel?.id ?? p.container?.channel_id;
  // A link button has no value: Slack opens the link, nothing comes back to answer.
  if (!action || typeof action.value !== "string" || !channel) return { kind: "ignored" };
  const actionTs = action.action_ts || String(o.now ?? Date.now());
  const kind = kindOf(undefined, channel);
  const messageTs = p.message?.ts ?? p.container?.message_ts;
  return {
    kind: "event",
    event: {
      id: `slack:${o.account}:action:${channel}:${actionTs}:${user}`,
      channel: "slack",
      account: o.account,
      conversation: {
        id: channel,
        kind,
        thread: threadOf(kind, p.message?.thread_ts ?? p.container?.thread_ts, messageTs, o.replyInThread),
      },
      sender: { id: user },
      text: "",
      attachments: [],
      action: { id: actionTs, value: action.value },
      addressed: true,
      receivedAt: o.now ?? Date.now(),
      replyContext: { user, messageTs, responseUrl: p.response_url },
      native: {
        type: payload.type,
        team_id: (payload.team as { id?: unknown } | undefined)?.id,
        channel,
        actionTs,
      },
    },
  };
}
