// Telegram updates → InboundEvent. Pure: checks the update's shape (types.ts), decides who was addressed (DMs
// always; groups only on @mention, a reply to the bot or /cmd@thisbot unless requireMention is off), who the
// sender is (a person, an anonymous group admin, a channel), which session a forum topic is, and drops what is
// not for us (other bots' commands, our own messages, channel posts). Never throws, whatever it is given.
import { type InboundEvent, type Sender, sentAtFrom } from "../../core/event.ts";
import { attachmentsOf } from "./attachments.ts";
import { type TgCallbackQuery, type TgChat, type TgMessage, type TgUser, tgUpdateSchema } from "./types.ts";

export interface BotIdentity {
  id: number;
  username: string;
}

export interface NormalizeOptions {
  account: string;
  bot: BotIdentity;
  requireMention: boolean;
  now?: number;
}

/** What became of an update: an event, nothing for us, or a payload that cannot be read (a "poison" update). */
export type Normalized =
  | { kind: "event"; event: InboundEvent }
  | { kind: "ignored" }
  | { kind: "unreadable"; updateId?: number; reason: string };

/** The user Telegram shows as the author of an anonymous group admin's message (from = this, sender_chat = group). */
export const GROUP_ANONYMOUS_BOT_ID = 1087968824;

export function normalizeUpdate(raw: unknown, o: NormalizeOptions): Normalized {
  const parsed = tgUpdateSchema.safeParse(raw);
  if (!parsed.success) {
    const updateId = (raw as { update_id?: unknown } | null)?.update_id;
    return {
      kind: "unreadable",
      ...(Number.isSafeInteger(updateId) ? { updateId: updateId as number } : {}),
      reason: parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(update)"}: ${i.message}`)
        .join("; "),
    };
  }
  const update = parsed.data;
  const event = update.message
    ? normalizeMessage(update.update_id, update.message, o)
    : update.callback_query
      ? normalizeCallback(update.update_id, update.callback_query, o)
      : undefined;
  return event ? { kind: "event", event } : { kind: "ignored" };
}

/**
 * Who wrote the message. An anonymous group admin (from = GroupAnonymousBot, sender_chat = the group) is a
 * person speaking for the group: the sender is the group's own id. A message posted as a channel is the
 * channel's (sender_chat). Undefined when nobody can be named.
 */
function senderOf(msg: TgMessage, from: TgUser | undefined): Sender | undefined {
  const chat = msg.sender_chat;
  if (chat) return { id: String(chat.id), name: chatName(chat), isBot: false };
  return from ? personOf(from) : undefined;
}

function personOf(from: TgUser): Sender {
  return {
    id: String(from.id),
    name: from.username ? `@${from.username}` : [from.first_name, from.last_name].filter(Boolean).join(" "),
    isBot: from.is_bot === true,
  };
}

function chatName(chat: TgChat): string {
  return chat.title ?? (chat.username ? `@${chat.username}` : String(chat.id));
}

function base(updateId: number, msg: TgMessage, sender: Sender, o: NormalizeOptions) {
  const kind = msg.chat.type === "private" ? "dm" : msg.chat.type === "channel" ? "channel" : "group";
  // Forum topics are their own sessions; a plain reply thread in a group (message_thread_id without
  // is_topic_message) is not.
  const thread = msg.is_topic_message && msg.message_thread_id ? `topic:${msg.message_thread_id}` : undefined;
  return {
    id: `telegram:${o.account}:${updateId}`,
    channel: "telegram",
    account: o.account,
    conversation: {
      id: String(msg.chat.id),
      kind,
      ...(thread ? { thread } : {}),
    } as InboundEvent["conversation"],
    sender,
    receivedAt: o.now ?? Date.now(),
  };
}

function normalizeMessage(updateId: number, msg: TgMessage, o: NormalizeOptions): InboundEvent | undefined {
  if (msg.chat.type === "channel") return undefined;
  // A channel's post copied into its discussion group is the channel talking to its readers, not to the bot.
  if (msg.is_automatic_forward) return undefined;
  const from = msg.from;
  if (from?.id === o.bot.id) return undefined;
  const sender = senderOf(msg, from);
  if (!sender) return undefined;
  const raw = msg.text ?? msg.caption ?? "";
  const entities = msg.text !== undefined ? msg.entities : msg.caption_entities;
  const me = o.bot.username.toLowerCase();

  // "/cmd@otherbot" is for another bot in the group: not ours, whatever requireMention says.
  const cmd = /^\/[A-Za-z0-9_]+(?:@([A-Za-z0-9_]+))?(?=\s|$)/.exec(raw.trimStart());
  const cmdTarget = cmd?.[1]?.toLowerCase();
  if (cmdTarget && cmdTarget !== me) return undefined;

  const mentioned = mentionsBot(raw, entities, o.bot);
  const repliedToBot = msg.reply_to_message?.from?.id === o.bot.id;
  const dm = msg.chat.type === "private";
  const addressed = dm || !o.requireMention || mentioned || repliedToBot || cmdTarget === me;
  const text = mentioned && !cmd ? stripMention(raw, o.bot.username) : raw;

  return {
    ...base(updateId, msg, sender, o),
    text,
    attachments: attachmentsOf(msg),
    addressed,
    ...sentAtOf(msg),
    ...(msg.reply_to_message ? { replyTo: String(msg.reply_to_message.message_id) } : {}),
    messageId: String(msg.message_id),
    // In groups the answer quotes the message it answers, so a busy chat can tell who is being answered.
    replyContext: dm ? {} : { replyToMessageId: msg.message_id },
    native: { update_id: updateId, message_id: msg.message_id, chat: msg.chat.id },
  };
}

/** Telegram's `date` (Unix seconds) as InboundEvent.sentAt; 0 means "unknown" (an inaccessible message). */
function sentAtOf(msg: TgMessage): { sentAt?: number } {
  const sentAt = sentAtFrom(msg.date, "s");
  return sentAt === undefined ? {} : { sentAt };
}

function normalizeCallback(
  updateId: number,
  q: TgCallbackQuery,
  o: NormalizeOptions,
): InboundEvent | undefined {
  // A button on a message too old for Telegram to include can't be placed in a conversation.
  if (!q.message || typeof q.data !== "string") return undefined;
  // The presser is always a person (from), even under a message an anonymous admin sent.
  return {
    ...base(updateId, q.message, personOf(q.from), o),
    text: "",
    attachments: [],
    addressed: true,
    // A press carries no time of its own; q.message.date is when the button's message was sent, which says
    // nothing about when it was pressed (see docs/channels/telegram.md, "Old updates").
    action: { id: q.id, value: q.data },
    replyContext: { callbackQueryId: q.id, messageId: q.message.message_id },
    native: { update_id: updateId, callback_query_id: q.id },
  };
}

function mentionsBot(text: string, entities: TgMessage["entities"], bot: BotIdentity): boolean {
  const handle = `@${bot.username}`.toLowerCase();
  for (const e of entities ?? []) {
    if (e.type === "mention" && text.slice(e.offset, e.offset + e.length).toLowerCase() === handle)
      return true;
    if (e.type === "text_mention" && e.user?.id === bot.id) return true;
  }
  if (!bot.username) return false;
  // Clients always send entities, but a forwarded or edited text may not carry them.
  return new RegExp(`(^|[^A-Za-z0-9_])${escapeRe(handle)}(?![A-Za-z0-9_])`, "i").test(text);
}

function stripMention(text: string, username: string): string {
  const stripped = text
    .replace(new RegExp(`(^|\\s)@${escapeRe(username)}(?![A-Za-z0-9_])[,:]?`, "gi"), "$1")
    .replace(/\s{2,}/g, " ")
    .trim();
  return stripped || text.trim();
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
