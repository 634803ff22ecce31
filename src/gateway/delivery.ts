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
import { chunkText } from "../core/text-chunk.ts";
import { backoffMs, type NewOutboxItem, type OutboxItem, type Store } from "../store/types.ts";
import type { Metrics } from "./metrics.ts";

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
