// Singleton work (a Telegram poller per bot, a Discord shard) runs only while this process holds a store lease,
// so replicas sharing one database never run it twice. The lease is renewed by a heartbeat; when a renewal fails
// the work is told to stop at once.
import type { Logger } from "pino";
import type { Store } from "../../store/types.ts";

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
    this.#held = await store.acquireLease(name, owner, ttlMs).catch(() => false);
    if (this.#held && !this.#timer) {
      this.#timer = setInterval(() => void this.#renew(), Math.max(50, Math.floor(ttlMs / 3)));
      this.#timer.unref();
    }
    return this.#held;
  }

  async #renew() {
    const { store, name, owner, ttlMs, log } = this.#o;
    const ok = await store.acquireLease(name, owner, ttlMs).catch((err: Error) => {
      log.warn({ lease: name, err: err.message }, "renewing a lease failed");
      return false;
    });
    if (!ok && this.#held) {
      this.#stopTimer();
      this.#held = false;
      log.warn({ lease: name }, "lost the lease; stopping singleton work here");
      this.#o.onLost();
    }
  }

  #stopTimer() {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async release() {
    this.#stopTimer();
    if (this.#held) await this.#o.store.releaseLease(this.#o.name, this.#o.owner).catch(() => {});
    this.#held = false;
  }
}
