// Renders an OutboundMessage for text-only platforms (WeChat, SMS, Kakao's text bubble): the agent's Markdown
// becomes plain text, buttons become numbered choices the user answers by number, and media becomes a link
// when the gateway can publish it — never silently dropped.
import type { DeliveryAddress } from "../../core/event.ts";
import type { Store } from "../../store/types.ts";
import type { ChannelContext, OutboundMessage } from "../types.ts";
import { toPlainText } from "./markdown/index.ts";
import { choiceKey, numberedChoices, rememberChoices } from "./reply-choices.ts";

export interface RenderOptions {
  /** Show buttons as numbered choices (false when the platform shows them itself, like Kakao quick replies). */
  numberButtons?: boolean;
  /** Publish media as links (false when the platform takes media URLs itself, like Twilio MMS). */
  mediaAsLinks?: boolean;
}

export async function renderText(
  ctx: Pick<ChannelContext, "publishMedia" | "log">,
  store: Store,
  to: DeliveryAddress,
  message: OutboundMessage,
  o: RenderOptions = {},
): Promise<string> {
  const parts = message.text ? [toPlainText(message.text)] : [];
  if (o.mediaAsLinks !== false) {
    for (const item of message.media ?? []) parts.push(await mediaLine(ctx, to, item));
  }
  if (message.buttons?.length) {
    await rememberChoices(store, choiceKey(to.channel, to.account, to.conversationId), message.buttons);
    if (o.numberButtons !== false) parts.push(numberedChoices(message.buttons));
  }
  return parts.join("\n\n");
}

async function mediaLine(
  ctx: Pick<ChannelContext, "publishMedia" | "log">,
  to: DeliveryAddress,
  item: NonNullable<OutboundMessage["media"]>[number],
): Promise<string> {
  const label = item.caption ?? item.filename;
  const url = await ctx.publishMedia?.(item, to).catch((err: Error) => {
    ctx.log.warn({ err: err.message, channel: to.channel }, "publishing media failed");
    return undefined;
  });
  if (url) return `${label}: ${url}`;
  return `[${label} could not be sent: this channel shows pictures and files only as links, and without OPENCLAW_CONNECTOR_PUBLIC_BASE_URL there is no link to it]`;
}
