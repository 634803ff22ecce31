// runSingleton on the shared PostgreSQL store: one runner at a time across "replicas" (separate stores on one
// database), takeover after a crash within the TTL, and the work aborted when the lease is taken away.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import pg from "pg";
import { runSingleton } from "../../src/runtime/singleton.ts";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { waitFor } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";

let db: TestDatabase;
const stores: PostgresStore[] = [];
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await db?.drop();
});

async function replica(schema: string) {
  const s = new PostgresStore(db.url, { schema, max: 2 });
  stores.push(s);
  await s.migrate();
  return s;
}

/** Work that counts how many copies run at once and ends when aborted. */
function tracker() {
  const t = { running: 0, maxRunning: 0, starts: [] as string[], aborts: 0 };
  const work = (who: string) => async (signal: AbortSignal) => {
    t.running++;
    t.maxRunning = Math.max(t.maxRunning, t.running);
    t.starts.push(who);
    await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
    t.aborts++;
    t.running--;
  };
  return { t, work };
}

it("runs on one replica at a time and hands over at once on stop()", async () => {
  const [a, b, c] = [await replica("s1"), await replica("s1"), await replica("s1")];
  const { t, work } = tracker();
  const runners = [a, b, c].map((s, i) => runSingleton(s, "scheduler", `r${i}`, 600, work(`r${i}`)));
  await waitFor(() => t.running === 1, 5000, "one runner");
  await new Promise((r) => setTimeout(r, 700)); // more than a TTL: renewals keep it where it is
  assert.equal(t.starts.length, 1, "the holder kept the lease through renewals");
  const first = Number(t.starts[0]!.slice(1));
  await runners[first]!.stop();
  await waitFor(() => t.starts.length === 2 && t.running === 1, 5000, "another replica to take over");
  assert.notEqual(t.starts[1], t.starts[0]);
  await Promise.all(runners.map((r) => r.stop()));
  assert.equal(t.maxRunning, 1, "never two at once");
  assert.equal(t.running, 0);
});

it("takes over from a crashed holder within the TTL", async () => {
  const s = await replica("s2");
  assert.equal(await s.acquireLease("expiry-sweep", "crashed-replica", 400), true);
  const { t, work } = tracker();
  const started = Date.now();
  const runner = runSingleton(s, "expiry-sweep", "survivor", 400, work("survivor"), { retryMs: 50 });
  await waitFor(() => t.running === 1, 5000, "takeover");
  const waited = Date.now() - started;
  assert.ok(waited >= 300, `not before the dead holder's lease expired (took ${waited} ms)`);
  assert.ok(waited < 1500, `soon after it expired (took ${waited} ms)`);
  assert.equal((await s.leaseHolder("expiry-sweep"))?.owner, "survivor");
  await runner.stop();
  assert.equal(await s.leaseHolder("expiry-sweep"), undefined, "stop() releases the lease");
});

it("aborts the work when the lease is taken away, then stands by", async () => {
  const s = await replica("s3");
  const { t, work } = tracker();
  const runner = runSingleton(s, "telegram:poller:42", "me", 300, work("me"), { retryMs: 50 });
  await waitFor(() => t.running === 1, 5000, "start");
  // Another process overwrites the lease row (as if our renewals had stalled past the TTL).
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(
    `UPDATE s3.leases SET owner = 'thief', until = until + 60000 WHERE name = 'telegram:poller:42'`,
  );
  await c.end();
  await waitFor(() => t.aborts === 1, 2000, "the work to be aborted");
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(t.running, 0, "does not restart while someone else holds it");
  assert.equal(runner.running, false);
  await runner.stop();
  assert.equal((await s.leaseHolder("telegram:poller:42"))?.owner, "thief", "stop() leaves others' leases");
});

it("retries work that throws, releasing the lease in between", async () => {
  const s = await replica("s4");
  let calls = 0;
  const runner = runSingleton(
    s,
    "flaky",
    "me",
    1000,
    async () => {
      calls++;
      throw new Error("backend down");
    },
    { retryMs: 30 },
  );
  await waitFor(() => calls >= 3, 3000, "three attempts");
  await runner.stop();
  assert.equal(await s.leaseHolder("flaky"), undefined);
});
