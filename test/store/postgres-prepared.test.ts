// The PostgreSQL store keeps its hot-path statements prepared on each connection. A rolling upgrade must not
// break that: a newer replica's migration may add a column while older replicas keep running, and a prepared
// statement returning `*` would then fail on every claim ("cached plan must not change result type").
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import pg from "pg";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";

let db: TestDatabase;
let store: PostgresStore;

before(async () => {
  db = await createTestDatabase();
  // One connection, so the statements prepared in the first round are the ones reused after the change.
  store = new PostgresStore(db.url, { schema: "upgrade", max: 1 });
  await store.migrate();
});
after(async () => {
  await store?.close();
  await db?.drop();
});

const item = (id: string) => ({ id, sessionKey: `lane-${id}`, payload: "{}", receivedAt: Date.now() });
const outbound = (key: string) => ({
  idempotencyKey: key,
  sessionKey: `lane-${key}`,
  channel: "line",
  account: "default",
  payload: "{}",
});

async function round(tag: string): Promise<void> {
  assert.equal(await store.enqueueInbound(item(`${tag}-in`)), "inserted");
  const [claimed] = await store.claimInbound({ owner: "w", leaseMs: 30_000, limit: 1 });
  assert.equal(claimed?.id, `${tag}-in`);
  assert.equal(await store.extendInboundLease(claimed.id, "w", 30_000), true);
  assert.equal(await store.completeInbound(claimed.id, "w", { outbox: [outbound(`${tag}-out`)] }), true);
  const [sending] = await store.claimOutbound({ owner: "w", leaseMs: 30_000, limit: 1 });
  assert.equal(sending?.idempotencyKey, `${tag}-out`);
  assert.equal(await store.extendOutboundLease(sending.id, "w", 30_000), true);
  assert.equal(await store.failOutbound(sending.id, "w", "429", { retryAt: Date.now() }), true);
  const [again] = await store.claimOutbound({ owner: "w", leaseMs: 30_000, limit: 1 });
  assert.equal(again?.attempts, 2);
  assert.equal(await store.completeOutbound(again.id, "w", "sent"), true);
}

it("postgres: a running replica keeps claiming and delivering after a newer replica adds columns", async () => {
  await round("before");
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query("ALTER TABLE upgrade.inbox ADD COLUMN added_later TEXT");
  await c.query("ALTER TABLE upgrade.outbox ADD COLUMN added_later TEXT");
  await c.end();
  await round("after");
  assert.deepEqual(await store.outboxStats(), { pending: 0, leased: 0, done: 2, dead: 0 });
});
