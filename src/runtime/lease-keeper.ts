// Singleton work (a Telegram poller per bot, a Discord shard) runs only while this process holds a store lease,
// so replicas sharing one database never run it twice. The lease is renewed by a heartbeat; when a renewal fails
// the work is told to stop at once — and also when no renewal has been confirmed for most of the TTL (a store that
// hangs instead of failing), so the work stops before the lease can expire under it and another replica starts.
import type { Logger } from "pino";
import type { Store } from "../store/types.ts";

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
  #timer: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #held = false;

  constructor(o: LeaseKeeperOptions) {
    this.#o = o;
  }

  get held(): boolean {
    return this.#held;
  }

  /** Tries to take the lease; on success starts renewing it every third of its TTL. */
  async acquire(): Promise<boolean> {
    const { store, name, owner, ttlMs } = this.#o;
    const sentAt = Date.now();
    this.#held = await store.acquireLease(name, owner, ttlMs).catch(() => false);
    if (this.#held) this.#confirmed(sentAt);
    if (this.#held && !this.#timer) {
      this.#timer = setInterval(() => void this.#renew(), Math.max(50, Math.floor(ttlMs / 3)));
      this.#timer.unref();
    }
    return this.#held;
  }

  async #renew() {
    const { store, name, owner, ttlMs, log } = this.#o;
    const sentAt = Date.now();
    const ok = await store.acquireLease(name, owner, ttlMs).catch((err: Error) => {
      log.warn({ lease: name, err: err.message }, "renewing a lease failed");
      return false;
    });
    if (!this.#held) return;
    if (ok) this.#confirmed(sentAt);
    else this.#lose("lost the lease; stopping singleton work here");
  }

  /**
   * A take or renewal sent at `sentAt` succeeded, so the lease is ours until at least sentAt + ttl. Unless a
   * later renewal confirms it again, stop the work at 80% of that: a renewal that never answers must not leave
   * this replica working after the lease has expired and another replica has taken it.
   */
  #confirmed(sentAt: number) {
    if (this.#deadline) clearTimeout(this.#deadline);
    const stopAt = sentAt + Math.floor(this.#o.ttlMs * 0.8);
    this.#deadline = setTimeout(
      () => {
        if (this.#held) this.#lose("no lease renewal was confirmed in time; stopping singleton work here");
      },
      Math.max(0, stopAt - Date.now()),
    );
    this.#deadline.unref();
  }

  #lose(message: string) {
    this.#stopTimer();
    this.#held = false;
    this.#o.log.warn({ lease: this.#o.name }, message);
    this.#o.onLost();
  }

  #stopTimer() {
    if (this.#timer) clearInterval(this.#timer);
    if (this.#deadline) clearTimeout(this.#deadline);
    this.#timer = undefined;
    this.#deadline = undefined;
  }

  async release() {
    this.#stopTimer();
    if (this.#held) await this.#o.store.releaseLease(this.#o.name, this.#o.owner).catch(() => {});
    this.#held = false;
  }
}
