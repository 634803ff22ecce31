// A counting semaphore: at most `max` holders at once, the rest wait in arrival order. A waiter whose signal
// aborts leaves the line with the signal's reason, so a cancelled conversation never holds a place.

export class Semaphore {
  readonly #max: number;
  #held = 0;
  readonly #waiting: { grant: () => void }[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves with the release function once a place is free. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#held < this.#max) {
      this.#held++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = () => {
        const i = this.#waiting.indexOf(waiter);
        if (i !== -1) this.#waiting.splice(i, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** Releasing twice is harmless; the place passes straight to the next waiter. */
  #releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.#waiting.shift();
      if (next) next.grant();
      else this.#held--;
    };
  }
}
