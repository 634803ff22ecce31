// How many replies a sender on no allowlist may get: `limits.untrusted.replies` per `windowSec` (3 per 10
// minutes by default), then silence until a reply leaves the window. On SMS every reply is paid for, so a
// stranger must not be able to make the gateway answer each of their messages. The budget is a set of slot
// keys in the store (each taken with kvSetIfAbsent and expiring one window after it was taken), so it holds
// across replicas and restarts.
import type { Store } from "../store/types.ts";

const NS = "reply-budget";

export interface ReplyBudgetLimits {
  replies: number;
  windowSec: number;
}

export class ReplyBudget {
  readonly #store: Store;
  readonly #limits: ReplyBudgetLimits;
  /** Senders known to have no slot left, until when: a flood costs one map lookup per message, no store reads. */
  readonly #spent = new Map<string, number>();

  constructor(store: Store, limits: ReplyBudgetLimits) {
    this.#store = store;
    this.#limits = limits;
  }

  /** Whether a reply could still be sent to this sender (nothing is taken). */
  async available(sender: string): Promise<boolean> {
    const until = this.#spent.get(sender);
    if (until !== undefined) {
      if (until > Date.now()) return false;
      this.#spent.delete(sender);
    }
    for (let i = 0; i < this.#limits.replies; i++)
      if ((await this.#store.kvGet(NS, `${sender}#${i}`)) === undefined) return true;
    this.#markSpent(sender);
    return false;
  }

  /** Takes one slot; false when none is left (the reply must not be sent). */
  async take(sender: string): Promise<boolean> {
    const windowMs = this.#limits.windowSec * 1000;
    for (let i = 0; i < this.#limits.replies; i++)
      if (await this.#store.kvSetIfAbsent(NS, `${sender}#${i}`, String(Date.now()), windowMs)) return true;
    this.#markSpent(sender);
    return false;
  }

  #markSpent(sender: string) {
    // The earliest a slot can free up is unknown here without reading every slot's expiry; a short pause is
    // enough to spare the store during a flood, and `available` reads the slots again afterwards.
    this.#spent.set(sender, Date.now() + Math.min(10_000, this.#limits.windowSec * 1000));
    if (this.#spent.size > 10_000) {
      const now = Date.now();
      for (const [k, t] of this.#spent) if (t <= now) this.#spent.delete(k);
    }
  }
}
