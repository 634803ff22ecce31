// How a platform meters a sender, for the fakes: each limit is a bucket of `burst` requests refilled at
// `perSec`, counted when a request arrives (GCRA, which is the same bucket kept as one timestamp). Written apart
// from src/runtime/pacer.ts on purpose: a fake that shared the pacer's code would share its mistakes.

export interface Limit {
  perSec: number;
  burst: number;
}

export class RateMeter {
  /** Per key: when the bucket would be full again (its theoretical arrival time). */
  readonly #tat = new Map<string, number>();
  readonly #now: () => number;
  /** Requests refused, per key prefix before the first ":" (e.g. "chat", "bot"). */
  readonly refused = new Map<string, number>();

  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /**
   * Counts one request against every limit, all or nothing. Returns 0 when it is allowed, else the ms until it
   * would have been and the key that refused it (nothing is counted then, as a platform ignores a refused call).
   */
  hit(limits: [key: string, limit: Limit][]): { waitMs: number; key?: string } {
    const now = this.#now();
    let waitMs = 0;
    let key: string | undefined;
    for (const [k, l] of limits) {
      const interval = 1000 / l.perSec;
      const tat = Math.max(this.#tat.get(k) ?? now, now);
      const allowedAt = tat - (l.burst - 1) * interval;
      if (allowedAt > now && allowedAt - now > waitMs) {
        waitMs = allowedAt - now;
        key = k;
      }
    }
    if (key !== undefined) {
      const kind = key.split(":")[0]!;
      this.refused.set(kind, (this.refused.get(kind) ?? 0) + 1);
      return { waitMs, key };
    }
    for (const [k, l] of limits) {
      const tat = Math.max(this.#tat.get(k) ?? now, now);
      this.#tat.set(k, tat + 1000 / l.perSec);
    }
    return { waitMs: 0 };
  }
}
