import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { it } from "node:test";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { NewMessage } from "../../src/store/types.ts";
import { storeContract } from "./contract.ts";

const dir = mkdtempSync(join(tmpdir(), "clawgate-store-"));
let n = 0;

storeContract("sqlite", async () => {
  const s = new SqliteStore(join(dir, `s${n++}.db`));
  await s.migrate();
  return s;
});

it("sqlite: a committed enqueue survives reopening the file, and migrations are idempotent", async () => {
  const path = join(dir, "reopen.db");
  const a = new SqliteStore(path);
  await a.migrate();
  await a.enqueueInbound({ id: "keep", sessionKey: "l", payload: "{}", receivedAt: 1 });
  await a.close();
  const b = new SqliteStore(path);
  await b.migrate();
  await b.migrate();
  assert.equal((await b.getInbound("keep"))?.state, "pending");
  await b.close();
});

it("sqlite: refuses a database migrated by a newer clawgate with an instruction, and leaves it untouched", async () => {
  const path = join(dir, "newer.db");
  const a = new SqliteStore(path);
  await a.migrate();
  await a.close();
  const raw = new DatabaseSync(path);
  raw.prepare(`INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)`).run();
  raw.close();
  const b = new SqliteStore(path);
  await assert.rejects(b.migrate(), /schema is version 99 .* upgrade clawgate/);
  await b.close();
  const check = new DatabaseSync(path);
  const { v } = check.prepare(`SELECT MAX(version) AS v FROM schema_migrations`).get() as { v: number };
  check.close();
  assert.equal(v, 99);
});

it("sqlite: writes issued in one turn are on disk for another connection once each resolves", async () => {
  const path = join(dir, "group.db");
  const s = new SqliteStore(path);
  await s.migrate();
  await s.enqueueInbound({ id: "a", sessionKey: "la", payload: "{}", receivedAt: 1 });
  await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 1 });
  const outbox = {
    idempotencyKey: "k1",
    sessionKey: "lo",
    channel: "webchat",
    account: "default",
    payload: "{}",
  };
  const [done, queued, planned] = await Promise.all([
    s.completeInbound("a", "w"),
    s.enqueueInbound({ id: "b", sessionKey: "lb", payload: "{}", receivedAt: 2 }),
    s.enqueueOutbound(outbox),
  ]);
  assert.deepEqual([done, queued, planned.inserted], [true, "inserted", true]);
  const [delivery] = await s.claimOutbound({ owner: "w", leaseMs: 60_000, limit: 1 });
  assert.equal(await s.completeOutbound(delivery!.id, "w", "sent"), true);
  // A second connection reads the file, not this store's connection: what it sees was committed.
  const other = new DatabaseSync(path);
  const rows = other.prepare(`SELECT id, state FROM inbox ORDER BY id`).all();
  const sent = other.prepare(`SELECT state, result FROM outbox WHERE idempotency_key = 'k1'`).get();
  other.close();
  await s.close();
  assert.deepEqual(
    rows.map((r) => `${r.id}:${r.state}`),
    ["a:done", "b:pending"],
  );
  assert.deepEqual({ ...sent }, { state: "done", result: "sent" });
});

it("sqlite: a write that fails in a group commit fails alone; the others of its turn are committed", async () => {
  const s = new SqliteStore(join(dir, "isolate.db"));
  await s.migrate();
  try {
    const bad = { sessionKey: "ls", role: "user", content: undefined } as unknown as NewMessage;
    const [ok, failed, after] = await Promise.allSettled([
      s.enqueueInbound({ id: "before", sessionKey: "l1", payload: "{}", receivedAt: 1 }),
      s.appendMessages([{ sessionKey: "ls", role: "user", content: "kept" }, bad]),
      s.enqueueInbound({ id: "after", sessionKey: "l2", payload: "{}", receivedAt: 2 }),
    ]);
    assert.deepEqual([ok.status, failed.status, after.status], ["fulfilled", "rejected", "fulfilled"]);
    assert.equal((await s.getInbound("before"))?.state, "pending");
    assert.equal((await s.getInbound("after"))?.state, "pending");
    assert.deepEqual(await s.listMessages("ls"), [], "the failing write is undone as a whole");
  } finally {
    await s.close();
  }
});
