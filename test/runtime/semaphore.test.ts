import assert from "node:assert/strict";
import { it } from "node:test";
import { Semaphore } from "../../src/runtime/semaphore.ts";

it("semaphore: at most max holders; waiters enter in arrival order as places free", async () => {
  const s = new Semaphore(2);
  const order: string[] = [];
  const a = await s.acquire();
  const b = await s.acquire();
  const c = s.acquire().then((release) => {
    order.push("c");
    return release;
  });
  const d = s.acquire().then((release) => {
    order.push("d");
    return release;
  });
  assert.deepEqual([s.held, s.waiting], [2, 2]);
  a();
  a(); // a second release of the same place frees nothing more
  const releaseC = await c;
  assert.deepEqual(order, ["c"]);
  assert.deepEqual([s.held, s.waiting], [2, 1]);
  b();
  const releaseD = await d;
  assert.deepEqual(order, ["c", "d"]);
  releaseC();
  releaseD();
  assert.deepEqual([s.held, s.waiting], [0, 0]);
});

it("semaphore: a waiter whose signal aborts leaves the line with the signal's reason", async () => {
  const s = new Semaphore(1);
  const first = await s.acquire();
  const controller = new AbortController();
  const cancelled = s.acquire(controller.signal);
  const next = s.acquire();
  controller.abort(new Error("session reset"));
  await assert.rejects(cancelled, /session reset/);
  assert.equal(s.waiting, 1);
  first();
  (await next)();
  assert.deepEqual([s.held, s.waiting], [0, 0]);
  await assert.rejects(s.acquire(controller.signal), /session reset/, "an aborted signal never enters");
});
