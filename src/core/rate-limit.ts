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

/**
 * Over the limit, a sender is told once ("slow down") and then ignored until the window lets them in again, so
 * a flood of commands cannot turn into a flood of replies.
 */
export type RateCheck = { ok: true } | { ok: false; message: string; notify: boolean };

export class CommandRateLimiter {
  readonly #user: SlidingWindowLimiter;
  readonly #channel: SlidingWindowLimiter;
  /** Per refused key: until when it has been told; refusals before then are silent. */
  readonly #told = new Map<string, number>();

  constructor(limits: CommandRateLimits) {
    this.#user = new SlidingWindowLimiter(limits.perUserPerMinute, 60_000);
    this.#channel = new SlidingWindowLimiter(limits.perChannelPerMinute, 60_000);
  }

  check(channelKey: string, userKey: string, now: number): RateCheck {
    const userKeyFull = `${channelKey}|${userKey}`;
    const u = this.#user.take(userKeyFull, now);
    if (!u.ok) {
      return this.#refuse(
        `u:${userKeyFull}`,
        now,
        u.retryAfterMs,
        `Slow down: too many commands from you. Try again in ${secs(u.retryAfterMs)} s.`,
      );
    }
    const c = this.#channel.take(channelKey, now);
    if (!c.ok) {
      return this.#refuse(
        `c:${channelKey}`,
        now,
        c.retryAfterMs,
        `Slow down: this chat sent too many commands. Try again in ${secs(c.retryAfterMs)} s.`,
      );
    }
    return { ok: true };
  }

  #refuse(key: string, now: number, retryAfterMs: number, message: string): RateCheck {
    const until = this.#told.get(key);
    const notify = until === undefined || until <= now;
    if (notify) {
      this.#told.set(key, now + retryAfterMs);
      if (this.#told.size > 10_000) for (const [k, t] of this.#told) if (t <= now) this.#told.delete(k);
    }
    return { ok: false, message, notify };
  }
}

const secs = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
