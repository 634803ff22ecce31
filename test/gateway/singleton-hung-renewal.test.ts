// A store that hangs (rather than fails) while the lease holder renews must not leave two replicas running the
// singleton work: the holder stops before its lease can expire, and only then does another replica take over.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runSingleton } from "../../src/runtime/singleton.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { waitFor } from "../helpers/gateway.ts";

/** A real store; lease calls from owners in `hung` do not answer until unstall() fails them (a stalled connection). */
class StallingLeaseStore extends SqliteStore {
  readonly hung = new Set<string>();
  readonly #stalled: ((err: Error) => void)[] = [];
  override acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    if (this.hung.has(owner)) return new Promise<boolean>((_, reject) => this.#stalled.push(reject));
    return super.acquireLease(name, owner, ttlMs);
  }
  override renewLeases(names: string[], owner: string, ttlMs: number): Promise<Set<string>> {
    if (this.hung.has(owner)) return new Promise<Set<string>>((_, reject) => this.#stalled.push(reject));
    return super.renewLeases(names, owner, ttlMs);
  }
  unstall() {
    this.hung.clear();
    for (const reject of this.#stalled.splice(0)) reject(new Error("connection reset"));
  }
}

test("a holder whose renewals stall stops its work before another replica starts it", async () => {
  const store = new StallingLeaseStore(":memory:");
  await store.migrate();
  const t = { running: 0, maxRunning: 0, starts: [] as string[] };
  const work = (who: string) => async (signal: AbortSignal) => {
    t.running++;
    t.maxRunning = Math.max(t.maxRunning, t.running);
    t.starts.push(who);
    await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    t.running--;
  };
  const a = runSingleton(store, "poller", "a", 600, work("a"), { retryMs: 20 });
  await waitFor(() => t.running === 1, 5000, "a to start");
  const b = runSingleton(store, "poller", "b", 600, work("b"), { retryMs: 20 });
  store.hung.add("a");
  try {
    await waitFor(() => t.starts.includes("b"), 5000, "b to take over once a's lease expired");
    assert.equal(t.maxRunning, 1, "a was still working when b started");
  } finally {
    store.unstall();
    await Promise.all([a.stop(), b.stop()]);
    await store.close();
  }
});
