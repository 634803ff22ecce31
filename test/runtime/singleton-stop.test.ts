// stop() while the lease is still being taken: the take answers after stop() found nothing to abort. The work must
// not start then (it would wait for an abort that never comes, and stop() would never return), and the lease taken
// late is given back. A real SQLite store; only the take is held back until stop() has been called.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { runSingleton } from "../../src/runtime/singleton.ts";
import { openStore } from "../../src/store/open.ts";
import { tempDir } from "../helpers/gateway.ts";

test("stop() during the lease take: the work never starts, stop() returns, the lease is released", async () => {
  const store = await openStore(join(tempDir("clawgate-singleton-"), "s.db"));
  let letTakeFinish!: () => void;
  const takeMayFinish = new Promise<void>((r) => {
    letTakeFinish = r;
  });
  let takes = 0;
  // The lease calls of the real store, with the take's answer held back.
  const slow = {
    acquireLease: async (name: string, owner: string, ttl: number) => {
      takes++;
      const got = await store.acquireLease(name, owner, ttl);
      await takeMayFinish;
      return got;
    },
    releaseLease: (name: string, owner: string) => store.releaseLease(name, owner),
    leaseHolder: (name: string) => store.leaseHolder(name),
  } as unknown as typeof store;
  let started = 0;
  const runner = runSingleton(slow, "sweep", "me", 10_000, async (signal) => {
    started++;
    await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
  });
  while (takes === 0) await new Promise((r) => setImmediate(r));
  const stopping = runner.stop();
  letTakeFinish();
  await stopping;
  assert.equal(started, 0, "the work did not start after stop()");
  assert.equal(await store.leaseHolder("sweep"), undefined, "the lease taken late was given back");
  await store.close();
});
