// A lease-based worker loop shared by the inbox and the outbox: claim up to `concurrency` items (one per
// lane), process them in parallel, extend leases while working, wake immediately on notify() and otherwise
// poll (retries coming due, items enqueued by other replicas).
//
// At most `claimPerTurn` items are claimed per event-loop turn. Items claimed together start together, and
// when their platform answers quickly they finish together too: 64 items' worth of work (responses parsed,
// answers committed, next requests built) then lands in one turn, and /healthz waits behind all of it. Claiming
// a few per turn spreads them out, so each turn carries a few items' work, with the same number in flight.
import type { Logger } from "pino";

export interface QueueWorkerOptions<T> {
  name: string;
  concurrency: number;
  /** Items claimed per event-loop turn at most (default 8); the rest of `concurrency` fills up over the next turns. */
  claimPerTurn?: number;
  leaseMs: number;
  pollMs: number;
  log: Logger;
  claim(limit: number): Promise<T[]>;
  process(item: T, signal: AbortSignal): Promise<void>;
  extend?(item: T): Promise<boolean>;
}

export class QueueWorker<T> {
  readonly #o: QueueWorkerOptions<T>;
  #running = false;
  #inflight = new Set<Promise<void>>();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #notified = false;

  constructor(options: QueueWorkerOptions<T>) {
    this.#o = options;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  start() {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  notify() {
    this.#notified = true;
    this.#wake?.();
  }

  /** Stops claiming; waits for in-flight items up to `drainMs`, then aborts them (their leases will expire). */
  async stop(drainMs = 10_000) {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    const all = Promise.allSettled([...this.#inflight]);
    const timer = setTimeout(() => this.#abort.abort(new Error("shutting down")), drainMs);
    await all;
    clearTimeout(timer);
  }

  async #run() {
    let yieldFirst = true;
    while (this.#running) {
      // Let I/O in between batches: with a store that answers synchronously (SQLite), claims and items that
      // need no network would otherwise chain in microtasks and starve every HTTP request, /healthz included,
      // until the whole backlog is drained. Not again after a claim that already waited a turn (for SQLite's group
      // commit, PostgreSQL's round trip): another would halve how fast a backlog is claimed a few items at a time.
      if (yieldFirst) await new Promise<void>((resolve) => setImmediate(resolve));
      yieldFirst = true;
      if (!this.#running) break;
      const free = this.#o.concurrency - this.#inflight.size;
      const asked = Math.min(free, this.#o.claimPerTurn ?? 8);
      let claimed: T[] = [];
      let claimWaitedATurn = false;
      if (free > 0) {
        this.#notified = false;
        const turn = setImmediate(() => {
          claimWaitedATurn = true;
        });
        try {
          claimed = await this.#o.claim(asked);
          clearImmediate(turn);
        } catch (err) {
          this.#o.log.error({ err, queue: this.#o.name }, "claim failed");
        }
        for (const item of claimed) this.#spawn(item);
      }
      if (!this.#running) break;
      // All asked for were there: more may be, so claim again.
      if (claimed.length > 0 && claimed.length === asked) {
        yieldFirst = !claimWaitedATurn;
        continue;
      }
      if (this.#notified && free > 0) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.#o.pollMs);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  #spawn(item: T) {
    const extendEvery = Math.max(500, Math.floor(this.#o.leaseMs / 3));
    const keepAlive = this.#o.extend
      ? setInterval(() => {
          this.#o.extend!(item).catch(() => {});
        }, extendEvery)
      : undefined;
    const p = this.#o
      .process(item, this.#abort.signal)
      .catch((err) => this.#o.log.error({ err, queue: this.#o.name }, "processing failed"))
      .finally(() => {
        if (keepAlive) clearInterval(keepAlive);
        this.#inflight.delete(p);
        this.notify();
      });
    this.#inflight.add(p);
  }
}
