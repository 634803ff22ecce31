// Group commit: writes requested in the same event-loop turn are committed together, one transaction for the
// whole batch, and each caller's promise settles with its own result once that transaction is durable.
// `commit` may be synchronous (node:sqlite) or asynchronous (pg); `flush()` then commits at once, and
// `settled()` also waits for asynchronous commits still in flight.
//
// A commit may take only the first part of what it is given (it returns fewer results than items: SQLite stops
// a transaction after a few milliseconds of statements, see src/store/sqlite/write-batch.ts). The rest stays at
// the head of the queue and is committed in the next turn, so a burst of thousands of writes is several short
// blocks of the event loop, with /healthz and other requests answered in between, instead of one long one.

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
      this.#schedule();
    });
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#commitOnce();
      if (this.#waiting.length) this.#schedule();
    });
  }

  /** Commits everything waiting now. With a synchronous commit, it is done (and settled) when this returns. */
  flush(): void {
    while (this.#waiting.length) this.#commitOnce();
  }

  /** One transaction: the items its commit took settle; those it left wait at the head of the queue. */
  #commitOnce(): void {
    const batch = this.#waiting;
    if (batch.length === 0) return;
    this.#waiting = [];
    const settle = (results: R[]) => {
      // A commit that took nothing would leave the queue as it was, and be asked again forever.
      if (results.length === 0) return fail(new Error("group commit: the commit took none of its items"));
      // Items that were not committed keep their place ahead of anything added since.
      if (results.length < batch.length) this.#waiting = [...batch.slice(results.length), ...this.#waiting];
      for (const [i, r] of results.entries()) batch[i]!.resolve(r);
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
    const p = out
      .then((results) => {
        settle(results);
        if (this.#waiting.length) this.#schedule();
      }, fail)
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Flushes, then waits for every commit still in flight, so a read afterwards sees all accepted writes. */
  async settled(): Promise<void> {
    this.flush();
    while (this.#inFlight.size || this.#waiting.length) {
      if (this.#inFlight.size) await Promise.allSettled([...this.#inFlight]);
      this.flush();
    }
  }
}
