// Singleton work (a Telegram poller per bot, a Discord shard) runs only while this process holds a store lease,
// so replicas sharing one database never run it twice. The lease is renewed by a heartbeat shared by every lease
// this process holds in the store (src/runtime/lease-renewals.ts); when a renewal fails the work is told to stop
// at once — and also when no renewal has been confirmed for most of the TTL (a store that hangs instead of
// failing), so the work stops before the lease can expire under it and another replica starts.
import type { Logger } from "pino";
import type { Store } from "../store/types.ts";
import { LeaseRenewals, type RenewalMember } from "./lease-renewals.ts";

export interface LeaseKeeperOptions {
  store: Store;
  name: string;
  owner: string;
  ttlMs: number;
  log: Logger;
  /** Called once when a held lease could not be renewed (another replica took it, or the store failed). */
  onLost(): void;
}

export class LeaseKeeper {
  readonly #o: LeaseKeeperOptions;
  readonly #renewals: LeaseRenewals;
  /** The current holding's place in the shared heartbeat; a new one per take, so late answers for an old one are ignored. */
  #member: RenewalMember | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #stopAt = 0;
  #held = false;

  constructor(o: LeaseKeeperOptions) {
    this.#o = o;
    this.#renewals = LeaseRenewals.for(o.store, o.owner);
  }

  get held(): boolean {
    return this.#held;
  }

  /** Tries to take the lease; on success it joins the process's heartbeat, renewed every third of its TTL. */
  async acquire(): Promise<boolean> {
    const { store, name, owner, ttlMs, log } = this.#o;
    const sentAt = Date.now();
    this.#held = await store.acquireLease(name, owner, ttlMs).catch(() => false);
    if (!this.#held) this.#stopRenewing();
    if (this.#held) this.#confirmed(sentAt);
    if (this.#held && !this.#member) {
      const member: RenewalMember = {
        name,
        ttlMs,
        renewed: (at) => {
          if (this.#member === member && this.#held) this.#confirmed(at);
        },
        lost: (err) => {
          if (this.#member !== member || !this.#held) return;
          if (err) log.warn({ lease: name, err: err.message }, "renewing a lease failed");
          this.#lose("lost the lease; stopping singleton work here");
        },
      };
      this.#member = member;
      this.#renewals.add(member);
    }
    return this.#held;
  }

  /**
   * A take or renewal sent at `sentAt` succeeded, so the lease is ours until at least sentAt + ttl. Unless a
   * later renewal confirms it again, stop the work at 80% of that: a renewal that never answers must not leave
   * this replica working after the lease has expired and another replica has taken it.
   */
  #confirmed(sentAt: number) {
    const stopAt = sentAt + Math.floor(this.#o.ttlMs * 0.8);
    // Renewals may answer out of order: an older confirmation must not bring the stop forward.
    if (this.#deadline && stopAt <= this.#stopAt) return;
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#stopAt = stopAt;
    this.#deadline = setTimeout(
      () => {
        if (this.#held) this.#lose("no lease renewal was confirmed in time; stopping singleton work here");
      },
      Math.max(0, stopAt - Date.now()),
    );
    this.#deadline.unref();
  }

  #lose(message: string) {
    this.#stopRenewing();
    this.#held = false;
    this.#o.log.warn({ lease: this.#o.name }, message);
    this.#o.onLost();
  }

  #stopRenewing() {
    if (this.#member) this.#renewals.delete(this.#member);
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#member = undefined;
    this.#deadline = undefined;
  }

  async release() {
    this.#stopRenewing();
    if (this.#held) await this.#o.store.releaseLease(this.#o.name, this.#o.owner).catch(() => {});
    this.#held = false;
  }
}
