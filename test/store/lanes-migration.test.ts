// Upgrading a database that already has a backlog: the migrations that add inbox and outbox lanes must give every
// lane with unfinished items its row, so nothing committed before the upgrade waits forever, and lane order still
// holds.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { postgresMigrations } from "../../src/store/postgres/migrations.ts";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { sqliteMigrations } from "../../src/store/sqlite/migrations.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { Store } from "../../src/store/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";

const FAR = 4_000_000_000_000;

/**
 * The backlog, as rows the previous release wrote: `live` holds a lease far in the future (its worker is busy)
 * with two events behind it; `dead` starts with a dead-lettered event, then a pending one; `later` waits for a
 * retry far in the future; `finished` has only done rows.
 */
const ROWS: [string, string, string, number, string | null, number | null][] = [
  // id, session_key, state, available_at, lease_owner, lease_until
  ["f1", "finished", "done", 0, null, null],
  ["l1", "live", "leased", 0, "old-worker", FAR],
  ["l2", "live", "pending", 0, null, null],
  ["d1", "dead", "dead", 0, null, null],
  ["l3", "live", "pending", 0, null, null],
  ["d2", "dead", "pending", 0, null, null],
  ["r1", "later", "pending", FAR, null, null],
];
const INSERT = `INSERT INTO inbox (id, session_key, payload, received_at, state, available_at, lease_owner,
  lease_until, updated_at) VALUES ($1, $2, '{}', 0, $3, $4, $5, $6, 0)`;

/** The outbox's backlog, as the previous release left it: the same lanes, plus one of another channel. */
const OUTBOX_ROWS: [string, string, string, string, number, string | null, number | null][] = [
  // idempotency_key, session_key, channel, state, available_at, lease_owner, lease_until
  ["f1", "finished", "telegram", "done", 0, null, null],
  ["l1", "live", "telegram", "leased", 0, "old-worker", FAR],
  ["l2", "live", "telegram", "pending", 0, null, null],
  ["d1", "dead", "telegram", "dead", 0, null, null],
  ["l3", "live", "telegram", "pending", 0, null, null],
  ["d2", "dead", "telegram", "pending", 0, null, null],
  ["r1", "later", "telegram", "pending", FAR, null, null],
  ["s1", "slack-lane", "slack", "pending", 0, null, null],
];
const INSERT_OUTBOX = `INSERT INTO outbox (idempotency_key, session_key, channel, account, payload, state, available_at,
  lease_owner, lease_until, created_at, updated_at) VALUES ($1, $2, $3, 'a', '{}', $4, $5, $6, $7, 0, 0)`;

async function checkOutboxUpgraded(s: Store) {
  const telegram = { owner: "new", leaseMs: 30_000, limit: 10, channels: ["telegram"] };
  const keys = async () => (await s.claimOutbound(telegram)).map((x) => x.idempotencyKey);
  const idOf = async (key: string) => (await s.findOutboundByKey(key))!.id;
  assert.deepEqual(await keys(), ["d2"], "only the lane whose head is ready is served");
  assert.deepEqual(
    (await s.claimOutbound({ ...telegram, channels: ["slack"] })).map((x) => x.idempotencyKey),
    ["s1"],
    "the lane keeps its channel",
  );
  assert.equal(await s.completeOutbound(await idOf("l1"), "old-worker"), true, "the busy worker finishes");
  assert.deepEqual(await keys(), ["l2"]);
  assert.equal(await s.completeOutbound(await idOf("l2"), "new"), true);
  assert.deepEqual(await keys(), ["l3"]);
  assert.equal((await s.getOutbound(await idOf("r1")))?.state, "pending");
}

async function checkUpgraded(s: Store) {
  const first = await s.claimInbound({ owner: "new", leaseMs: 30_000, limit: 10 });
  assert.deepEqual(
    first.map((x) => x.id),
    ["d2"],
    "only the lane whose head is ready is served; the busy and the retrying lanes wait",
  );
  assert.equal(
    await s.completeInbound("l1", "old-worker"),
    true,
    "the busy worker finishes after the upgrade",
  );
  assert.deepEqual(
    (await s.claimInbound({ owner: "new", leaseMs: 30_000, limit: 10 })).map((x) => x.id),
    ["l2"],
  );
  assert.equal(await s.completeInbound("l2", "new"), true);
  assert.deepEqual(
    (await s.claimInbound({ owner: "new", leaseMs: 30_000, limit: 10 })).map((x) => x.id),
    ["l3"],
  );
  assert.equal(
    await s.enqueueInbound({ id: "n1", sessionKey: "live", payload: "{}", receivedAt: 0 }),
    "queued",
  );
  assert.equal(
    await s.enqueueInbound({ id: "n2", sessionKey: "finished", payload: "{}", receivedAt: 0 }),
    "inserted",
  );
  assert.equal((await s.getInbound("r1"))?.state, "pending");
}

it("sqlite: the lanes migration fills in the lanes of a database with a backlog", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "clawgate-lanes-")), "old.db");
  const before = sqliteMigrations.findIndex((m) => m.includes("CREATE TABLE inbox_lanes"));
  assert.ok(before > 0);
  const raw = new DatabaseSync(path);
  raw.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)`);
  for (let v = 0; v < before; v++) {
    raw.exec(sqliteMigrations[v]!);
    raw.prepare(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`).run(v + 1);
  }
  const insert = raw.prepare(INSERT.replaceAll(/\$(\d)/g, "?$1"));
  for (const row of ROWS) insert.run(...row);
  const outbox = raw.prepare(INSERT_OUTBOX.replaceAll(/\$(\d)/g, "?$1"));
  for (const row of OUTBOX_ROWS) outbox.run(...row);
  raw.close();
  const s = new SqliteStore(path);
  try {
    await s.migrate();
    await checkUpgraded(s);
    await checkOutboxUpgraded(s);
  } finally {
    await s.close();
  }
});

describe("postgres", () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  it("postgres: the lanes migration fills in the lanes of a database with a backlog", async () => {
    const before = postgresMigrations.findIndex((m) => m.includes("CREATE TABLE inbox_lanes"));
    assert.ok(before > 0);
    const c = new pg.Client({ connectionString: db.url, options: "-c search_path=old" });
    await c.connect();
    try {
      await c.query(`CREATE SCHEMA old`);
      await c.query(
        `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
      );
      for (let v = 0; v < before; v++) {
        await c.query(postgresMigrations[v]!);
        await c.query(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, [v + 1]);
      }
      for (const row of ROWS) await c.query(INSERT, row);
      for (const row of OUTBOX_ROWS) await c.query(INSERT_OUTBOX, row);
    } finally {
      await c.end();
    }
    const s = new PostgresStore(db.url, { schema: "old", max: 2 });
    try {
      await s.migrate();
      await checkUpgraded(s);
      await checkOutboxUpgraded(s);
    } finally {
      await s.close();
    }
  });
});
