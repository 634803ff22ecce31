// The parts of the store a feature may be given instead of the whole Store: what it can touch is in its type.
import type { Store } from "./types.ts";

/** Key-value entries with expiry (pairing codes, devices, bridge jobs, callback tokens, idempotency records). */
export type KvStore = Pick<
  Store,
  "kvGet" | "kvSet" | "kvSetIfAbsent" | "kvCompareAndSet" | "kvTake" | "kvDelete" | "kvList"
>;

/** Named leases: work that runs in one replica at a time. */
export type LeaseStore = Pick<Store, "acquireLease" | "releaseLease" | "leaseHolder">;
