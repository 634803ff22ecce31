// Discord gateway dispatches → InboundEvent. Pure: the caller resolves the channel (is it a thread, and of which
// parent?) and passes it in. DMs are always addressed; guild channels need a mention or a reply to the bot unless
// requireMention is off; threads are their own sessions under their parent channel. Payloads are read through
// the schemas in schema.ts: what cannot be read is reported through `onInvalid` and skipped.
import { lexCommand } from "../../core/command-lexer.ts";
import type { InboundEvent } from "../../core/event.ts";
import { attachmentsOf } from "./attachments.ts";
import {
  type CommandInteraction,
  commandInteractionSchema,
  componentInteractionSchema,
  firstIssue,
  messageSchema,
  type ParsedMessage,
  type ParsedUser,
  snowflakeTime,
} from "./schema.ts";
import type { DcChannel } from "./types.ts";
import { THREAD_TYPES } from "./types.ts";

export interface DiscordNormalizeOptions {
  account: string;
  botId: string;
  requireMention: boolean;
  /** The message's channel, when it is a guild channel (for threads: parent_id). */
  channel?: DcChannel;
  now?: number;
  /** Told why a payload was skipped (its shape could not be read). */
  onInvalid?(reason: string): void;
}

/** The name of the one string option every registered command takes: the rest of the command line. */
export const ARGS_OPTION = "args";

/** conversation.id is the channel (a thread's parent); the thread id becomes conversation.thread. */
function conversationOf(channelId: string, guildId: string | undefined, channel: DcChannel | undefined) {
  if (!guildId) return { id: channelId, kind: "dm" as const };
  if (channel && THREAD_TYPES.has(channel.type) && channel.parent_id) {
    return { id: channel.parent_id, kind: "group" as const, thread: channelId };
  }
  return { id: channelId, kind: "group" as const };
}

function senderOf(u: ParsedUser) {
  return { id: u.id, name: u.global_name || u.username || u.id, isBot: u.bot === true };
}

export function normalizeMessage(raw: unknown, o: DiscordNormalizeOptions): InboundEvent | undefined {
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) {
    o.onInvalid?.(`message skipped, ${firstIssue(parsed.error)}`);
    return undefined;
  }
  const msg: ParsedMessage = parsed.data;
  if (msg.author.id === o.botId || msg.webhook_id) return undefined;
  const conversation = conversationOf(msg.channel_id, msg.guild_id, o.channel);
  const mentionRe = new RegExp(`<@!?${o.botId}>`, "g");
  const mentioned = msg.mentions.some((u) => u.id === o.botId) || msg.content.search(mentionRe) !== -1;
  const repliedToBot = msg.referenced_message?.author?.id === o.botId;
  const addressed = conversation.kind === "dm" || !o.requireMention || mentioned || repliedToBot;
  const text = msg.content
    .replace(mentionRe, " ")
    .replace(/\s{2,}/g, " ")
    .trim();
  const replyTo = msg.message_reference?.message_id;
  return {
    id: `discord:${o.account}:${msg.id}`,
    channel: "discord",
    account: o.account,
    conversation,
    sender: senderOf(msg.author),
    text,
    attachments: attachmentsOf(msg),
    addressed,
    ...(replyTo ? { replyTo } : {}),
    messageId: msg.id,
    // In guild channels the answer references the message it answers.
    replyContext: conversation.kind === "dm" ? {} : { replyToMessageId: msg.id },
    receivedAt: o.now ?? Date.now(),
    sentAt: snowflakeTime(msg.id),
    native: { message_id: msg.id, channel_id: msg.channel_id, guild_id: msg.guild_id },
  };
}

/** A button press (message component interaction) or a slash command; other interaction types are not ours. */
export function normalizeInteraction(raw: unknown, o: DiscordNormalizeOptions): InboundEvent | undefined {
  const type = (raw as { type?: unknown } | null)?.type;
  if (type === 2) return normalizeCommand(raw, o);
  if (type !== 3) return undefined;
  const parsed = componentInteractionSchema.safeParse(raw);
  if (!parsed.success) {
    o.onInvalid?.(`button press skipped, ${firstIssue(parsed.error)}`);
    return undefined;
  }
  const i = parsed.data;
  const user = i.member?.user ?? i.user;
  if (!user || !i.channel_id) {
    o.onInvalid?.("button press skipped, it names no user or channel");
    return undefined;
  }
  return {
    id: `discord:${o.account}:interaction:${i.id}`,
    channel: "discord",
    account: o.account,
    conversation: conversationOf(i.channel_id, i.guild_id, o.channel),
    sender: senderOf(user),
    text: "",
    attachments: [],
    addressed: true,
    action: { id: i.id, value: i.data.custom_id },
    replyContext: { interactionId: i.id, interactionToken: i.token, applicationId: i.application_id },
    receivedAt: o.now ?? Date.now(),
    sentAt: snowflakeTime(i.id),
    native: { interaction_id: i.id, channel_id: i.channel_id },
  };
}

/** Reads a slash command interaction, or says why it cannot be read. */
export function parseCommandInteraction(raw: unknown): CommandInteraction | string {
  const parsed = commandInteractionSchema.safeParse(raw);
  if (!parsed.success) return `slash command skipped, ${firstIssue(parsed.error)}`;
  const i = parsed.data;
  if (!(i.member?.user ?? i.user) || !i.channel_id)
    return "slash command skipped, it names no user or channel";
  return i;
}

/**
 * A slash command becomes the text the user would have typed ("/name args"), parsed like a typed command, and is
 * answered through the interaction (replyContext.slash): see interaction-replies.ts.
 */
export function normalizeCommand(raw: unknown, o: DiscordNormalizeOptions): InboundEvent | undefined {
  const i = parseCommandInteraction(raw);
  if (typeof i === "string") {
    o.onInvalid?.(i);
    return undefined;
  }
  const user = (i.member?.user ?? i.user)!;
  const channelId = i.channel_id!;
  const option = i.data.options.find((x) => x.name === ARGS_OPTION);
  const args = typeof option?.value === "string" ? option.value.trim() : "";
  const text = `/${i.data.name.toLowerCase()}${args ? ` ${args}` : ""}`;
  const lexed = lexCommand(text);
  const sentAt = snowflakeTime(i.id);
  return {
    id: `discord:${o.account}:interaction:${i.id}`,
    channel: "discord",
    account: o.account,
    conversation: conversationOf(channelId, i.guild_id, o.channel),
    sender: senderOf(user),
    text,
    ...(lexed.kind === "command" ? { command: lexed.command } : {}),
    attachments: [],
    addressed: true,
    replyContext: {
      slash: true,
      interactionId: i.id,
      interactionToken: i.token,
      applicationId: i.application_id,
      interactionAt: sentAt,
      channelId,
    },
    receivedAt: o.now ?? Date.now(),
    sentAt,
    native: { interaction_id: i.id, channel_id: channelId, command: i.data.name },
  };
}
