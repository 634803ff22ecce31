// Turns replies into outbox items (split at the channel's limit, first chunk editing a streamed message) and
// delivers outbox items through the channel adapters with retries that honour rate limits.
import type { Logger } from "pino";
import {
  type ChannelAdapter,
  type OutboundMessage,
  type OutboxPayload,
  PermanentDeliveryError,
  RateLimitedError,
} from "../channels/types.ts";
import type { DeliveryAddress } from "../core/event.ts";
import { formatSessionKey } from "../core/session-key.ts";
import { chunkText } from "../core/text-chunk.ts";
import { backoffMs, type NewOutboxItem, type OutboxItem, type Store } from "../store/types.ts";
import type { Metrics } from "./metrics.ts";
import { capAnswer } from "./pipeline.ts";
import type { DeliverOptions } from "./services.ts";

/**
 * Queues a message for any conversation (bridge deliver, job results, approvals): capped like a streamed answer,
 * split at the channel's limit, and recorded in the session's history unless `opts.record` is false.
 */
export async function enqueueDelivery(
  store: Store,
  adapter: ChannelAdapter,
  address: DeliveryAddress,
  message: OutboundMessage,
  idempotencyKey: string,
  opts: DeliverOptions,
  answerChars: number,
): Promise<{ id: number; inserted: boolean }> {
  // Answers that arrive later (async agent callbacks, job results) are capped like streamed ones.
  if (message.text.length > answerChars) message = { ...message, text: capAnswer(message.text, answerChars) };
  const { channel, account, conversationId, thread } = address;
  const sessionKey = formatSessionKey({ channel, account, conversationId, thread });
  const items = planDeliveries(adapter, address, sessionKey, idempotencyKey, [message]);
  let first: { id: number; inserted: boolean } | undefined;
  for (const item of items) {
    const r = await store.enqueueOutbound(item);
    first ??= r;
  }
  // Keep the conversation's history complete (the web chat shows it); "system" is not sent as agent context.
  if (first?.inserted && message.text && opts.record !== false) {
    const role = opts.historyRole ?? (message.kind === "error" ? "error" : "system");
    await store.appendMessages([{ sessionKey, role, content: message.text }]);
  }
  return first!;
}

export const MAX_DELIVERY_ATTEMPTS = 10;
const MAX_RATE_LIMITED_ATTEMPTS = 60;

/** Splits each reply into the chunks the channel accepts; buttons and media ride on the last chunk. */
export function planDeliveries(
  adapter: ChannelAdapter,
  address: DeliveryAddress,
  sessionKey: string,
  keyPrefix: string,
  replies: OutboundMessage[],
  editMessageId?: string,
  eventId?: string,
): NewOutboxItem[] {
  const items: NewOutboxItem[] = [];
  let n = 0;
  replies.forEach((reply, r) => {
    const chunks = reply.text ? chunkText(reply.text, adapter.capabilities.maxTextLength) : [""];
    chunks.forEach((text, c) => {
      const last = c === chunks.length - 1;
      const message: OutboundMessage = {
        text,
        kind: reply.kind,
        ...(last && reply.buttons ? { buttons: reply.buttons } : {}),
        ...(last && reply.media ? { media: reply.media } : {}),
      };
      const payload: OutboxPayload = { address, message };
      if (r === 0 && c === 0 && editMessageId && adapter.capabilities.edit && !reply.media) {
        payload.editMessageId = editMessageId;
      }
      items.push({
        idempotencyKey: `${keyPrefix}:${n++}`,
        sessionKey,
        channel: address.channel,
        account: address.account,
        payload: JSON.stringify(payload),
        eventId,
      });
    });
  });
  return items;
}

export async function deliverOutboxItem(
  item: OutboxItem,
  owner: string,
  adapter: ChannelAdapter | undefined,
  store: Store,
  metrics: Metrics,
  log: Logger,
): Promise<void> {
  if (!adapter) {
    await store.failOutbound(item.id, owner, `no adapter for ${item.channel}/${item.account} is configured`, {
      dead: true,
    });
    metrics.outbound.inc({ channel: item.channel, result: "dead" });
    return;
  }
  const payload = JSON.parse(item.payload) as OutboxPayload;
  try {
    let messageId: string | undefined;
    if (payload.editMessageId && adapter.edit) {
      await adapter.edit(payload.address, payload.editMessageId, payload.message);
      messageId = payload.editMessageId;
    } else {
      messageId = (
        await adapter.send(payload.address, payload.message, {
          idempotencyKey: item.idempotencyKey,
          eventId: item.eventId,
        })
      ).messageId;
    }
    await store.completeOutbound(item.id, owner, JSON.stringify({ messageId }));
    metrics.outbound.inc({ channel: item.channel, result: "sent" });
  } catch (err) {
    const message = (err as Error).message ?? String(err);
    if (err instanceof RateLimitedError && item.attempts < MAX_RATE_LIMITED_ATTEMPTS) {
      log.warn(
        { channel: item.channel, retryAfterMs: err.retryAfterMs },
        "platform rate limit; retrying this chat later",
      );
      await store.failOutbound(item.id, owner, message, { retryAt: Date.now() + err.retryAfterMs });
      metrics.outbound.inc({ channel: item.channel, result: "rate_limited" });
      return;
    }
    if (err instanceof PermanentDeliveryError || item.attempts >= MAX_DELIVERY_ATTEMPTS) {
      log.error(
        { channel: item.channel, outbox: item.id, err: message },
        "delivery failed for good; dead-lettered",
      );
      await store.failOutbound(item.id, owner, message, { dead: true });
      metrics.outbound.inc({ channel: item.channel, result: "dead" });
      return;
    }
    log.warn(
      { channel: item.channel, outbox: item.id, err: message, attempt: item.attempts },
      "delivery failed; will retry",
    );
    await store.failOutbound(item.id, owner, message, { retryAt: Date.now() + backoffMs(item.attempts) });
    metrics.outbound.inc({ channel: item.channel, result: "retry" });
  }
}
