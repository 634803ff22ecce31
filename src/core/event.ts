// The one normalized shape every channel turns its native payloads into.
import type { ParsedCommand } from "./command-lexer.ts";
import { formatSessionKey } from "./session-key.ts";

export type ConversationKind = "dm" | "group" | "channel";

export interface Conversation {
  id: string;
  kind: ConversationKind;
  /** Thread, topic or reply chain that forms its own session (Slack thread_ts, Telegram topic, Discord thread). */
  thread?: string;
}

export interface Sender {
  id: string;
  name?: string;
  isBot?: boolean;
  /**
   * The id was chosen by the sender, not assigned by a platform (the web chat's `userId`). Such an id only
   * matches channel-qualified entries (`webchat:alice`) in admin and allow-from lists, so nobody can claim to
   * be a Telegram admin by typing that admin's number.
   */
  selfAsserted?: boolean;
}

export type AttachmentKind =
  | "image"
  | "audio"
  | "voice"
  | "video"
  | "file"
  | "sticker"
  | "location"
  | "contact";

/**
 * Something a message carries besides its text, as every channel describes it. The bytes are not here: the
 * inbox worker asks the channel's fetchAttachment() for them (never the webhook's ack path), with `platformId`
 * or `url` as the platform's own reference. Locations and contacts carry their data inline and are not fetched.
 */
export interface Attachment {
  kind: AttachmentKind;
  /** What the platform says the type is; the worker sniffs the bytes and trusts those instead. */
  mime?: string;
  name?: string;
  /** What the platform says the size is (bytes), when it tells before the download. */
  size?: number;
  /** Platform reference the channel resolves (Telegram file_id, LINE message id, WhatsApp media id, WeChat MediaId). */
  platformId?: string;
  /** Where the platform serves the bytes, when the payload names it (Slack url_private, Discord CDN, Twilio MediaUrl). */
  url?: string;
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  contact?: { name?: string; phone?: string };
  /** Text the platform already made of the attachment (WeChat's voice `Recognition`), used instead of transcribing. */
  transcript?: string;
  /** A sticker's emoji or a platform's alt text, for when the picture itself cannot be passed on. */
  alt?: string;
}

/** A button press: `value` is the opaque payload the gateway put on the button (e.g. "approve:apr_…"). */
export interface InboundAction {
  id: string;
  value: string;
}

export interface InboundEvent {
  /** Stable id `channel:account:platformId`; the inbox deduplicates on it. */
  id: string;
  /**
   * The id the same event had before its channel changed its id format: one already stored under it makes this
   * a duplicate, so a redelivery that straddles an upgrade is not handled twice.
   */
  formerId?: string;
  channel: string;
  account: string;
  conversation: Conversation;
  sender: Sender;
  text: string;
  command?: ParsedCommand;
  attachments: Attachment[];
  action?: InboundAction;
  /** Platform id of the message this one answers, when the platform tells. */
  replyTo?: string;
  /**
   * This message's own platform id, in the id space `replyTo` uses (Telegram message_id, Discord message id), so
   * a later reply to it can be matched; set by the channels that carry replies.
   */
  messageId?: string;
  /** True when the bot was addressed (mention, reply to the bot, DM). */
  addressed: boolean;
  receivedAt: number;
  /**
   * When the platform says the message was sent (ms since epoch), where the payload carries a time. An event
   * older than the dedup window (`retention.finishedDays`) is acknowledged and ignored: its finished row may
   * have been pruned, so dedup can no longer vouch that it was not handled already.
   */
  sentAt?: number;
  /** Per-platform data needed to answer (LINE reply token, Kakao callback URL, Slack ts …). */
  replyContext?: Record<string, unknown>;
  /**
   * The platform's own identifiers of the message (event id, message id, chat), to trace it in the platform's
   * logs or API. Not the whole payload: the text and files are above, and keeping the payload as well doubled
   * every inbox row (the text twice, Slack's blocks a third time), which every enqueue pays in bytes written.
   */
  native?: Record<string, unknown>;
}

/** Where a reply goes: enough for a channel adapter to address the conversation. */
export interface DeliveryAddress {
  channel: string;
  account: string;
  conversationId: string;
  thread?: string;
  replyContext?: Record<string, unknown>;
}

/** The event's session key; parts are escaped (src/core/session-key.ts) so the key parses back to this address. */
export function sessionKeyOf(event: Pick<InboundEvent, "channel" | "account" | "conversation">): string {
  return formatSessionKey({
    channel: event.channel,
    account: event.account,
    conversationId: event.conversation.id,
    thread: event.conversation.thread,
  });
}

export function addressOf(event: InboundEvent): DeliveryAddress {
  return {
    channel: event.channel,
    account: event.account,
    conversationId: event.conversation.id,
    thread: event.conversation.thread,
    replyContext: event.replyContext,
  };
}

/** The latest instant a JavaScript Date can hold: anything later is not a time a platform sent. */
const MAX_TIME_MS = 8.64e15;

/**
 * A platform's send time as InboundEvent.sentAt (ms), or undefined when the payload's value is not a usable
 * time: not a number, not finite, not positive, or past what a Date holds once converted (1e305 s is "finite"
 * until it is multiplied by 1000).
 */
export function sentAtFrom(value: unknown, unit: "s" | "ms"): number | undefined {
  const n = typeof value === "string" && /^\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) return undefined;
  const ms = Math.floor(unit === "s" ? n * 1000 : n);
  return ms >= 1 && ms <= MAX_TIME_MS ? ms : undefined;
}
