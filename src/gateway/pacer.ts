// Token buckets keyed by whatever a channel needs (global, per chat, per group). `take` waits until every
// named bucket has a token, so a platform is never sent more than its documented rate. Blocking a chat for a
// 429 only delays that chat's key.

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
