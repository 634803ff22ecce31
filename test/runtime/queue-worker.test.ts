// The queue worker claims a few items per turn (claimPerTurn) so that a backlog does not start, and finish, all
// at once; it must still fill its whole concurrency and drain the backlog with every item processed once.
import assert from "node:assert/strict";
import { it } from "node:test";
import { pino } from "pino";
import { QueueWorker, type QueueWorkerOptions } from "../../src/runtime/queue-worker.ts";

function backlog(n: number) {
  const items = Array.from({ length: n }, (_, i) => i);
  const asked: number[] = [];
  return {
    asked,
    claim: async (limit: number) => {
      asked.push(limit);
      return items.splice(0, limit);
    },
  };
}

/** The worker under test, with leases and polling far enough out that only claims and completions drive it. */
function testWorker(
  o: Pick<QueueWorkerOptions<number>, "concurrency" | "claimPerTurn" | "claim" | "process">,
) {
  return new QueueWorker<number>({
    name: "test",
    leaseMs: 60_000,
    pollMs: 60_000,
    log: pino({ level: "silent" }),
    ...o,
  });
}

/** A worker over a backlog of `count` items that records each item it processes; `all` settles once every one has been. */
function draining(count: number) {
  const { claim } = backlog(count);
  const done: number[] = [];
  const { promise: all, resolve: drained } = Promise.withResolvers<void>();
  const worker = testWorker({
    concurrency: 64,
    claimPerTurn: 8,
    claim,
    process: async (item) => {
      done.push(item);
      if (done.length === count) drained();
    },
  });
  return { worker, done, all };
}

it("queue worker: claims at most claimPerTurn at a time, yet fills its whole concurrency", async () => {
  const { asked, claim } = backlog(100);
  const started: number[] = [];
  const { promise: gate, resolve: release } = Promise.withResolvers<void>();
  const { promise: full, resolve: allStarted } = Promise.withResolvers<void>();
  const worker = testWorker({
    concurrency: 12,
    claimPerTurn: 4,
    claim,
    process: async (item) => {
      started.push(item);
      if (started.length === 12) allStarted();
      await gate;
    },
  });
  worker.start();
  await full;
  assert.equal(worker.inflight, 12);
  assert.ok(
    asked.every((n) => n <= 4),
    `claims asked for ${asked.join(", ")}`,
  );
  release();
  await worker.stop();
});

it("queue worker: a backlog larger than a claim drains completely, each item processed once and in claim order", async () => {
  const { worker, done, all } = draining(250);
  worker.start();
  await all;
  await worker.stop();
  assert.deepEqual(
    done,
    Array.from({ length: 250 }, (_, i) => i),
  );
});

it("queue worker: a claim that answers at once (no commit to wait for) still lets other work run between claims", async () => {
  const { worker, done, all } = draining(10_000);
  worker.start();
  let processedBeforeOtherWork = -1;
  setImmediate(() => {
    processedBeforeOtherWork = done.length;
  });
  await all;
  await worker.stop();
  assert.ok(
    processedBeforeOtherWork >= 0 && processedBeforeOtherWork < 10_000,
    `other work ran after ${processedBeforeOtherWork} items`,
  );
});
