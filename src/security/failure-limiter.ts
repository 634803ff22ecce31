// Brute-force guard for unauthenticated entry points: counts failed attempts per client address in a sliding
// window, and once the limit is reached refuses every attempt from that address — correct ones too — until
// the window has passed, so a guesser cannot tell a right guess from a wrong one while blocked.
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();
  readonly limit: number;
  readonly windowMs: number;

  constructor(limit: number, windowMs = 60_000) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Milliseconds until `key` may try again; 0 when it is not blocked. */
  blockedForMs(key: string, now = Date.now()): number {
    const hits = this.#live(key, now);
    return hits.length >= this.limit ? hits[0]! + this.windowMs - now : 0;
  }

  fail(key: string, now = Date.now()) {
    const hits = this.#live(key, now);
    hits.push(now);
    this.#failures.set(key, hits);
    if (this.#failures.size > 10_000) {
      for (const [k, h] of this.#failures)
        if (h.every((t) => t <= now - this.windowMs)) this.#failures.delete(k);
    }
  }

  #live(key: string, now: number): number[] {
    const hits = (this.#failures.get(key) ?? []).filter((t) => t > now - this.windowMs);
    if (hits.length) this.#failures.set(key, hits);
    else this.#failures.delete(key);
    return hits;
  }
}

/** Seconds for a Retry-After header (at least 1). */
export function retryAfterSec(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}
