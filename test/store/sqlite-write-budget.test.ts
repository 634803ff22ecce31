// SQLite's group commit stops a transaction after transactionBudgetMs of statements and commits the rest in the
// next turn. With a budget of 0 every write is its own transaction: the store must behave exactly the same
// (the whole contract runs that way), a write is visible to another connection by the time its promise
// resolves, and a failing write still fails only itself.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { it } from "node:test";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { commitWrites } from "../../src/store/sqlite/write-batch.ts";
import { storeContract } from "./contract.ts";

const dir = mkdtempSync(join(tmpdir(), "clawgate-budget-"));
let n = 0;

storeContract("sqlite, one write per transaction", async () => {
  const s = new SqliteStore(join(dir, `c${n++}.db`), { transactionBudgetMs: 0 });
  await s.migrate();
  return s;
});

it("sqlite budget: each of a burst of enqueues is committed, and readable elsewhere, when its promise resolves", async () => {
  const path = join(dir, "burst.db");
  const s = new SqliteStore(path, { transactionBudgetMs: 0 });
  await s.migrate();
  const other = new DatabaseSync(path, { readOnly: true });
  const count = other.prepare("SELECT COUNT(*) AS n FROM inbox WHERE id = ?");
  const ids = Array.from({ length: 40 }, (_, i) => `burst-${i}`);
  const seen = await Promise.all(
    ids.map((id, i) =>
      s
        .enqueueInbound({ id, sessionKey: `lane-${i % 3}`, payload: "{}", receivedAt: i })
        .then((result) => ({ result, durable: Number(count.get(id)!.n) })),
    ),
  );
  assert.deepEqual(
    seen.map((x) => x.durable),
    ids.map(() => 1),
  );
  assert.equal(seen.filter((x) => x.result === "inserted").length, 3);
  // Per-lane order survives the split: each lane's items are claimed oldest first.
  const claimed: string[] = [];
  for (;;) {
    const items = await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 10 });
    if (items.length === 0) break;
    for (const it of items) {
      claimed.push(it.id);
      await s.completeInbound(it.id, "w");
    }
  }
  for (let lane = 0; lane < 3; lane++) {
    const expected = ids.filter((_, i) => i % 3 === lane);
    assert.deepEqual(
      claimed.filter((id) => expected.includes(id)),
      expected,
    );
  }
  other.close();
  await s.close();
});

it("sqlite budget: close() commits writes still waiting, in as many transactions as they need", async () => {
  const path = join(dir, "close.db");
  const s = new SqliteStore(path, { transactionBudgetMs: 0 });
  await s.migrate();
  const pending = Array.from({ length: 10 }, (_, i) =>
    s.enqueueInbound({ id: `c-${i}`, sessionKey: `c-${i}`, payload: "{}", receivedAt: i }),
  );
  await s.close();
  assert.deepEqual(await Promise.all(pending), Array(10).fill("inserted"));
  const raw = new DatabaseSync(path, { readOnly: true });
  assert.equal(Number(raw.prepare("SELECT COUNT(*) AS n FROM inbox").get()!.n), 10);
  raw.close();
});

function scratch() {
  const db = new DatabaseSync(join(dir, `w${n++}.db`));
  db.exec("CREATE TABLE t (k TEXT PRIMARY KEY)");
  const insert = db.prepare("INSERT INTO t (k) VALUES (?)");
  const rows = () => (db.prepare("SELECT k FROM t ORDER BY k").all() as { k: string }[]).map((r) => r.k);
  return { db, write: (k: string) => () => insert.run(k).changes, rows };
}

it("commitWrites: with the budget spent after the first write, only that write is committed", () => {
  const { db, write, rows } = scratch();
  const out = commitWrites(db, [write("a"), write("b"), write("c")], 0);
  assert.deepEqual(out, [{ ok: true, value: 1 }]);
  assert.deepEqual(rows(), ["a"]);
  assert.equal(db.isTransaction, false);
});

it("commitWrites: a failing write fails only itself, and the writes after it wait for the next transaction", () => {
  const { db, write, rows } = scratch();
  commitWrites(db, [write("dup")]);
  const ops = [write("a"), write("dup"), write("b")];
  // An unlimited budget takes all three; the duplicate fails alone.
  const all = commitWrites(db, ops);
  assert.deepEqual(
    all.map((o) => o.ok),
    [true, false, true],
  );
  assert.deepEqual(rows(), ["a", "b", "dup"]);
  // With the budget spent, the retry after the failure covers what was taken, not the rest.
  const { db: db2, write: write2, rows: rows2 } = scratch();
  commitWrites(db2, [write2("dup")]);
  const part = commitWrites(db2, [write2("dup"), write2("x")], 0);
  assert.equal(part.length, 1);
  assert.equal(part[0]!.ok, false);
  assert.deepEqual(rows2(), ["dup"]);
});
