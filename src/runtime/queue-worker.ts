// A lease-based worker loop shared by the inbox and the outbox: claim up to `concurrency` items (one per
// lane), process them in parallel, extend leases while working, wake immediately on notify() and otherwise
// poll (retries coming due, items enqueued by other replicas).
import type { Logger } from "pino";

export interface QueueWorkerOptions<T> {
  name: string;
  concurrency: number;
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
    while (this.#running) {
      // Let I/O in between batches: with a store that answers synchronously (SQLite), claims and items that
      // need no network would otherwise chain in microtasks and starve every HTTP request, /healthz included,
      // until the whole backlog is drained.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.#running) break;
      const free = this.#o.concurrency - this.#inflight.size;
      let claimed: T[] = [];
      if (free > 0) {
        this.#notified = false;
        try {
          claimed = await this.#o.claim(free);
        } catch (err) {
          this.#o.log.error({ err, queue: this.#o.name }, "claim failed");
        }
        for (const item of claimed) this.#spawn(item);
      }
      if (!this.#running) break;
      if (claimed.length > 0 && claimed.length === free) continue;
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
