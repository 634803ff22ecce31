// The two queue workers: the inbox runs the pipeline for each committed event (inbox.ts), the outbox delivers
// each planned message through its channel (delivery.ts). Both claim under a lease owned by this process.
import type { Logger } from "pino";
import type { ChannelAdapter } from "../channels/types.ts";
import type { Config } from "../config/schema.ts";
import { QueueWorker } from "../runtime/queue-worker.ts";
import type { InboxItem, OutboxItem, Store } from "../store/types.ts";
import { deliverOutboxItem } from "./delivery.ts";
import { type InboxDeps, processInboxItem } from "./inbox.ts";
import type { Metrics } from "./metrics.ts";

export interface QueueWorkers {
  inbox: QueueWorker<InboxItem>;
  outbox: QueueWorker<OutboxItem>;
}

export function createQueueWorkers(
  config: Config,
  deps: Omit<InboxDeps, "maxAttempts" | "notifyOutbox"> & {
    adapters(): ChannelAdapter[];
    metrics: Metrics;
    log: Logger;
    store: Store;
  },
): QueueWorkers {
  const { store, owner, log } = deps;
  // Claims per event-loop turn (src/runtime/queue-worker.ts): SQLite's claims and commits run on this thread, so
  // a few at a time keep /healthz answered while a backlog drains; PostgreSQL's run in the database, and each
  // claim is a transaction of three round trips, so claiming 8 at a time cost it about a quarter more CPU per
  // answer than 32 (bench:e2e, 5.3–6.7 against 4.6–5.3 ms).
  const CLAIM_PER_TURN = store.kind === "postgres" ? 32 : 8;
  const { concurrency, leaseMs, maxAttempts } = config.inbox;
  const inboxDeps: InboxDeps = { ...deps, maxAttempts, notifyOutbox: () => outbox.notify() };
  const inbox = new QueueWorker<InboxItem>({
    name: "inbox",
    concurrency,
    leaseMs,
    pollMs: 500,
    claimPerTurn: CLAIM_PER_TURN,
    log,
    claim: (limit) => store.claimInbound({ owner, leaseMs, limit }),
    extend: (item) => store.extendInboundLease(item.id, owner, leaseMs),
    process: (item, signal) => processInboxItem(item, signal, inboxDeps),
  });
  const outboxLeaseMs = config.outbox.leaseMs;
  const outbox: QueueWorker<OutboxItem> = new QueueWorker<OutboxItem>({
    name: "outbox",
    // Deliveries are waits on the platform, paced per platform (src/runtime/pacer.ts), not CPU.
    concurrency: 64,
    leaseMs: outboxLeaseMs,
    pollMs: 500,
    claimPerTurn: CLAIM_PER_TURN,
    log,
    claim: (limit) =>
      store.claimOutbound({
        owner,
        leaseMs: outboxLeaseMs,
        limit,
        channels: [...new Set(deps.adapters().map((a) => a.channel))],
      }),
    extend: (item) => store.extendOutboundLease(item.id, owner, outboxLeaseMs),
    process: (item) =>
      deliverOutboxItem(item, owner, deps.adapter(item.channel, item.account), store, deps.metrics, log),
  });
  return { inbox, outbox };
}
