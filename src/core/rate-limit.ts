// Sliding-window counters for per-user and per-channel command limits. Pure: time is passed in.

export class SlidingWindowLimiter {
  readonly #hits = new Map<string, number[]>();
  readonly limit: number;
  readonly windowMs: number;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  /** Records a hit when under the limit; otherwise returns the ms until the oldest hit leaves the window. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    const from = now - this.windowMs;
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > from);
    if (hits.length >= this.limit) {
      this.#hits.set(key, hits);
      return { ok: false, retryAfterMs: hits[0]! + this.windowMs - now };
    }
    hits.push(now);
    this.#hits.set(key, hits);
    if (this.#hits.size > 10_000) this.#prune(from);
    return { ok: true };
  }

  #prune(from: number) {
    for (const [key, hits] of this.#hits) if (hits.every((t) => t <= from)) this.#hits.delete(key);
  }
}

export interface CommandRateLimits {
  perUserPerMinute: number;
  perChannelPerMinute: number;
}

export class CommandRateLimiter {
  readonly #user: SlidingWindowLimiter;
  readonly #channel: SlidingWindowLimiter;

  constructor(limits: CommandRateLimits) {
    this.#user = new SlidingWindowLimiter(limits.perUserPerMinute, 60_000);
    this.#channel = new SlidingWindowLimiter(limits.perChannelPerMinute, 60_000);
  }

  check(channelKey: string, userKey: string, now: number): { ok: true } | { ok: false; message: string } {
    const u = this.#user.take(`${channelKey}|${userKey}`, now);
    if (!u.ok) {
      return {
        ok: false,
        message: `Slow down: too many commands from you. Try again in ${secs(u.retryAfterMs)} s.`,
      };
    }
    const c = this.#channel.take(channelKey, now);
    if (!c.ok) {
      return {
        ok: false,
        message: `Slow down: this chat sent too many commands. Try again in ${secs(c.retryAfterMs)} s.`,
      };
    }
    return { ok: true };
  }
}

const secs = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
