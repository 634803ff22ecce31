// Discord gateway dispatches → InboundEvent. Pure: the caller resolves the channel (is it a thread, and of which
// parent?) and passes it in. DMs are always addressed; guild channels need a mention or a reply to the bot unless
// requireMention is off; threads are their own sessions under their parent channel.
import type { Attachment, InboundEvent } from "../../core/event.ts";
import type { DcChannel, DcInteraction, DcMessage, DcUser } from "./types.ts";
import { THREAD_TYPES } from "./types.ts";

export interface DiscordNormalizeOptions {
  account: string;
  botId: string;
  requireMention: boolean;
  /** The message's channel, when it is a guild channel (for threads: parent_id). */
  channel?: DcChannel;
  now?: number;
}

/** conversation.id is the channel (a thread's parent); the thread id becomes conversation.thread. */
function conversationOf(channelId: string, guildId: string | undefined, channel: DcChannel | undefined) {
  if (!guildId) return { id: channelId, kind: "dm" as const };
  if (channel && THREAD_TYPES.has(channel.type) && channel.parent_id) {
    return { id: channel.parent_id, kind: "group" as const, thread: channelId };
  }
  return { id: channelId, kind: "group" as const };
}

function senderOf(u: DcUser) {
  return { id: u.id, name: u.global_name || u.username, isBot: u.bot === true };
}

export function normalizeMessage(msg: DcMessage, o: DiscordNormalizeOptions): InboundEvent | undefined {
  if (!msg?.id || !msg.author || msg.author.id === o.botId || msg.webhook_id) return undefined;
  const conversation = conversationOf(msg.channel_id, msg.guild_id, o.channel);
  const mentionRe = new RegExp(`<@!?${o.botId}>`, "g");
  const mentioned =
    (msg.mentions ?? []).some((u) => u.id === o.botId) || msg.content.search(mentionRe) !== -1;
  const repliedToBot = msg.referenced_message?.author?.id === o.botId;
  const addressed = conversation.kind === "dm" || !o.requireMention || mentioned || repliedToBot;
  const text = msg.content
    .replace(mentionRe, " ")
    .replace(/\s{2,}/g, " ")
    .trim();
  return {
    id: `discord:${o.account}:${msg.id}`,
    channel: "discord",
    account: o.account,
    conversation,
    sender: senderOf(msg.author),
    text,
    attachments: (msg.attachments ?? []).map(attachmentOf),
    addressed,
    ...(msg.message_reference?.message_id ? { replyTo: msg.message_reference.message_id } : {}),
    // In guild channels the answer references the message it answers.
    replyContext: conversation.kind === "dm" ? {} : { replyToMessageId: msg.id },
    receivedAt: o.now ?? Date.now(),
    native: { message_id: msg.id, channel_id: msg.channel_id, guild_id: msg.guild_id },
  };
}

/** A button press (message component interaction). Other interaction types are not ours. */
export function normalizeInteraction(i: DcInteraction, o: DiscordNormalizeOptions): InboundEvent | undefined {
  const user = i.member?.user ?? i.user;
  if (i.type !== 3 || !user || !i.channel_id || typeof i.data?.custom_id !== "string") return undefined;
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
    native: { interaction_id: i.id, channel_id: i.channel_id },
  };
}

function attachmentOf(a: {
  id: string;
  filename: string;
  content_type?: string;
  size: number;
  url: string;
}): Attachment {
  const kind = a.content_type?.startsWith("image/")
    ? "image"
    : a.content_type?.startsWith("audio/")
      ? "audio"
      : a.content_type?.startsWith("video/")
        ? "video"
        : "file";
  return { kind, url: a.url, mime: a.content_type, name: a.filename, size: a.size, platformId: a.id };
}
