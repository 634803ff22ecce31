// Retention: deletes finished queue items past retention.finishedDays and expired kv entries, in batches, on a
// periodic loop.
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { type Periodic, runPeriodically } from "../runtime/periodic.ts";
import type { Store } from "../store/types.ts";

const BATCH = 1000;
const MAX_ROUNDS = 100;

/** `stopping`: true once the gateway is shutting down, so a long backlog does not hold up the exit. */
export function startRetention(store: Store, config: Config, log: Logger, stopping: () => boolean): Periodic {
  return runPeriodically(config.retention.intervalMs, () => prune(store, config, log, stopping));
}

async function prune(store: Store, config: Config, log: Logger, stopping: () => boolean) {
  const finishedBefore = Date.now() - config.retention.finishedDays * 86_400_000;
  try {
    for (let round = 0; round < MAX_ROUNDS && !stopping(); round++) {
      const n = await store.prune({ finishedBefore, limit: BATCH });
      if (n.inbox + n.outbox + n.kv + n.media > 0) log.debug({ ...n }, "retention: pruned");
      if (n.inbox < BATCH && n.outbox < BATCH && n.kv < BATCH) return;
    }
  } catch (err) {
    log.warn({ err: (err as Error).message }, "retention: pruning failed; will try again later");
  }
}
