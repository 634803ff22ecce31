// The inbox item lifecycle, as delivery.ts is for the outbox: commit an inbound event, run the pipeline under a per-session abort (so
// /new can cut off the reply in progress), commit the replies with marking the item done, answer an in-band
// waiter, and on failure schedule a retry with backoff or dead-letter the item.
import type { Logger } from "pino";
import type { ChannelAdapter, IngestResult, OutboundMessage } from "../channels/types.ts";
import type { Config } from "../config/schema.ts";
import { addressOf, type InboundEvent, sessionKeyOf } from "../core/event.ts";
import { backoffMs, type InboxItem, type Store } from "../store/types.ts";
import { planDeliveries } from "./delivery.ts";
import type { Metrics } from "./metrics.ts";
import type { Pipeline } from "./pipeline.ts";
import type { ReplyWaiters } from "./reply-waiters.ts";

/** The reply being worked on in each session, so a /new can cancel it. */
export class InflightSessions {
  readonly #controllers = new Map<string, AbortController>();

  /** Whether a reply was in progress here (on this replica) to cancel. */
  cancel(sessionKey: string, reason: Error): boolean {
    const controller = this.#controllers.get(sessionKey);
    controller?.abort(reason);
    return controller !== undefined;
  }

  /** Runs `work` with a signal that aborts when `outer` does or when the session is cancelled. */
  async run<T>(
    sessionKey: string,
    outer: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const onStop = () => controller.abort(outer.reason);
    outer.addEventListener("abort", onStop, { once: true });
    this.#controllers.set(sessionKey, controller);
    try {
      return await work(controller.signal);
    } finally {
      outer.removeEventListener("abort", onStop);
      if (this.#controllers.get(sessionKey) === controller) this.#controllers.delete(sessionKey);
    }
  }
}

export interface IngestDeps {
  config: Config;
  store: Store;
  log: Logger;
  metrics: Metrics;
  inflight: InflightSessions;
  notifyInbox(): void;
  /** A /new its sender may run: it cancels the reply in progress in the session. */
  mayReset(event: InboundEvent): boolean;
}

/** Commits an inbound event to the inbox (the first step of its lifecycle); stale events are acknowledged only. */
export async function commitInbound(event: InboundEvent, d: IngestDeps): Promise<IngestResult> {
  const days = d.config.retention.finishedDays;
  if (event.sentAt !== undefined && event.sentAt < Date.now() - days * 86_400_000) {
    d.log.info(
      { eventId: event.id, sentAt: new Date(event.sentAt).toISOString() },
      `ignored an event older than the dedup window (retention.finishedDays = ${days})`,
    );
    d.metrics.inbound.inc({ channel: event.channel, result: "stale" });
    return "stale";
  }
  const sessionKey = sessionKeyOf(event);
  const result = await d.store.enqueueInbound({
    id: event.id,
    ...(event.formerId ? { alias: event.formerId } : {}),
    sessionKey,
    payload: JSON.stringify(event),
    receivedAt: event.receivedAt,
  });
  const accepted = result !== "duplicate";
  d.metrics.inbound.inc({ channel: event.channel, result: accepted ? "accepted" : "duplicate" });
  if (accepted) {
    // Only an event that opened its lane is claimable now; one queued behind its lane's unfinished items is
    // claimed when they finish, so waking the worker for it would only re-examine a blocked lane.
    if (result === "inserted") d.notifyInbox();
    // /new cancels the reply in progress in this session rather than waiting behind it in the lane. The
    // store-backed allowlist is not consulted: a sender trusted only through it waits for its turn instead.
    if (d.mayReset(event)) d.inflight.cancel(sessionKey, new Error("session reset"));
  }
  return accepted ? "accepted" : "duplicate";
}

export interface InboxDeps {
  store: Store;
  owner: string;
  log: Logger;
  metrics: Metrics;
  pipeline: Pipeline;
  waiters: ReplyWaiters;
  inflight: InflightSessions;
  maxAttempts: number;
  adapter(channel: string, account: string): ChannelAdapter | undefined;
  /** New outbox items were committed. */
  notifyOutbox(): void;
}

export async function processInboxItem(item: InboxItem, signal: AbortSignal, d: InboxDeps): Promise<void> {
  const event = JSON.parse(item.payload) as InboundEvent;
  let inBand = false;
  try {
    await d.inflight.run(item.sessionKey, signal, async (sessionSignal) => {
      const outcome = await d.pipeline.handle(event, sessionSignal);
      const adapter = d.adapter(event.channel, event.account);
      const finalReply = outcome.replies.at(-1);
      inBand = finalReply !== undefined && d.waiters.claim(event.id);
      const outbox =
        adapter && !inBand
          ? planDeliveries(
              adapter,
              addressOf(event),
              item.sessionKey,
              `reply:${event.id}`,
              outcome.replies,
              outcome.editMessageId,
              event.id,
            )
          : [];
      const ok = await d.store.completeInbound(item.id, d.owner, {
        messages: outcome.messages,
        outbox,
        ...(outcome.kv?.length ? { kv: outcome.kv } : {}),
      });
      if (inBand) d.waiters.settle(event.id, ok ? mergeReplies(outcome.replies) : undefined);
      if (!ok) d.log.warn({ event: event.id }, "lease lost before completion; another worker has it");
      d.metrics.processed.inc({ channel: event.channel, outcome: "done" });
      if (outbox.length) d.notifyOutbox();
    });
  } catch (err) {
    // The commit failed after the waiter was claimed: answer the waiting webhook now; the retry uses the outbox.
    if (inBand) d.waiters.settle(event.id, undefined);
    const message = (err as Error).message ?? String(err);
    const dead = item.attempts >= d.maxAttempts;
    d.log.error({ event: event.id, err, attempt: item.attempts, dead }, "processing an event failed");
    await d.store.failInbound(
      item.id,
      d.owner,
      message,
      dead ? { dead: true } : { retryAt: Date.now() + backoffMs(item.attempts) },
    );
    d.metrics.processed.inc({ channel: event.channel, outcome: dead ? "dead" : "retry" });
  }
}

/** In-band answers carry one message: join several replies (a command's multi-part answer) with blank lines. */
function mergeReplies(replies: OutboundMessage[]): OutboundMessage {
  if (replies.length === 1) return replies[0]!;
  const last = replies.at(-1)!;
  // Every reply's pictures go along (an answer's picture followed by a note must not lose the picture); a
  // pictures-only reply adds no blank paragraph.
  const media = replies.flatMap((r) => r.media ?? []);
  const text = replies
    .map((r) => r.text)
    .filter((t) => t.trim())
    .join("\n\n");
  return { ...last, text, ...(media.length ? { media } : {}) };
}
