// Token buckets keyed by whatever a channel needs (global, per chat, per group). `take` waits until every
// named bucket has a token, so a platform is never sent more than its documented rate. Blocking a chat for a
// 429 only delays that chat's key.
//
// A rate is a promise about what the platform sees. A request taken on time can arrive late (a busy machine, a
// slow network) and the next one on time, so two arrive closer than the rate allows: call `settle` with the
// same specs when the platform has answered, and a spacing bucket (burst 1, "one per interval") counts its
// next interval from that answer instead of from the take. `run` does take → call → settle.

export interface BucketSpec {
  key: string;
  /** Tokens added per second. */
  ratePerSec: number;
  /** Largest burst. */
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  blockedUntil: number;
}

export class Pacer {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Milliseconds to wait before all buckets have a token; 0 means take now (and the tokens are taken). */
  tryTake(specs: BucketSpec[]): number {
    const now = this.#now();
    let wait = 0;
    for (const spec of specs) {
      const b = this.#refill(spec, now);
      if (b.blockedUntil > now) wait = Math.max(wait, b.blockedUntil - now);
      else if (b.tokens < 1) wait = Math.max(wait, Math.ceil(((1 - b.tokens) / spec.ratePerSec) * 1000));
    }
    if (wait > 0) return wait;
    for (const spec of specs) this.#buckets.get(spec.key)!.tokens -= 1;
    return 0;
  }

  async take(specs: BucketSpec[], signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.tryTake(specs);
      if (wait === 0) return;
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, wait);
        signal?.addEventListener(
          "abort",
          () => {
            clearTimeout(t);
            reject(signal.reason);
          },
          { once: true },
        );
      });
    }
  }

  /**
   * The platform answered a call made with these specs: each spacing bucket (burst 1) starts its next
   * interval now, so consecutive calls arrive at least one interval apart whatever the first one's transit.
   * Buckets with a larger burst are left alone: restarting them would throw away refill owed to other calls.
   */
  settle(specs: BucketSpec[]) {
    const now = this.#now();
    for (const spec of specs) {
      if (spec.burst > 1) continue;
      const b = this.#refill(spec, now);
      b.tokens = Math.min(b.tokens, 0);
      b.updatedAt = now;
    }
  }

  /** take → call → settle (also when the call fails: the platform may have counted it). */
  async run<T>(specs: BucketSpec[], call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.take(specs, signal);
    try {
      return await call();
    } finally {
      this.settle(specs);
    }
  }

  /** After a 429: nothing goes to this key until the platform's retry-after has passed. */
  block(key: string, ms: number) {
    const b = this.#buckets.get(key) ?? { tokens: 0, updatedAt: this.#now(), blockedUntil: 0 };
    b.blockedUntil = Math.max(b.blockedUntil, this.#now() + ms);
    b.tokens = 0;
    this.#buckets.set(key, b);
  }

  #refill(spec: BucketSpec, now: number): Bucket {
    let b = this.#buckets.get(spec.key);
    if (!b) {
      b = { tokens: spec.burst, updatedAt: now, blockedUntil: 0 };
      this.#buckets.set(spec.key, b);
      return b;
    }
    b.tokens = Math.min(spec.burst, b.tokens + ((now - b.updatedAt) / 1000) * spec.ratePerSec);
    b.updatedAt = now;
    return b;
  }
}

/**
 * The least time, in ms, from the first to the last of `n` sends through one bucket that starts full: the first
 * `burst` go at once, every later one waits a whole interval. A burst test compares what it measured with this.
 */
export function minimumSpanMs(n: number, limit: { ratePerSec: number; burst: number }): number {
  return (Math.max(0, n - limit.burst) / limit.ratePerSec) * 1000;
}
