// Group commit: writes requested in the same event-loop turn are committed together, one transaction for the
// whole batch, and each caller's promise settles with its own result once that transaction is durable.
// `commit` may be synchronous (node:sqlite) or asynchronous (pg); `flush()` then commits at once, and
// `settled()` also waits for asynchronous commits still in flight.

interface Waiting<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  readonly #commit: (items: T[]) => R[] | Promise<R[]>;
  #waiting: Waiting<T, R>[] = [];
  #scheduled = false;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(commit: (items: T[]) => R[] | Promise<R[]>) {
    this.#commit = commit;
  }

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is waiting now. With a synchronous commit, it is done (and settled) when this returns. */
  flush(): void {
    this.#scheduled = false;
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    const settle = (results: R[]) => {
      for (const [i, w] of batch.entries()) w.resolve(results[i]!);
    };
    const fail = (err: unknown) => {
      for (const w of batch) w.reject(err);
    };
    let out: R[] | Promise<R[]>;
    try {
      out = this.#commit(batch.map((w) => w.item));
    } catch (err) {
      fail(err);
      return;
    }
    if (!(out instanceof Promise)) {
      settle(out);
      return;
    }
    const p = out.then(settle, fail).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Flushes, then waits for every commit still in flight, so a read afterwards sees all accepted writes. */
  async settled(): Promise<void> {
    this.flush();
    if (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
  }
}
