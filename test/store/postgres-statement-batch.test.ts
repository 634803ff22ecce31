// The PostgreSQL group commit (src/store/postgres/statement-batch.ts) against a real server: writes of one turn
// share one round trip and one transaction, each caller gets its own result or its own error, values survive
// being written as literals, and a write handed in while a batch commits is never left behind.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { StatementBatch } from "../../src/store/postgres/statement-batch.ts";
import type { Sql } from "../../src/store/sql.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";

let db: TestDatabase;
const pools: pg.Pool[] = [];

before(async () => {
  db = await createTestDatabase();
  const setup = new pg.Pool({ connectionString: db.url, max: 1 });
  await setup.query(`CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT, n BIGINT, tags TEXT[])`);
  await setup.end();
});
after(async () => {
  await Promise.allSettled(pools.map((p) => p.end()));
  await db?.drop();
});

/** A pool whose every query sent on a checked-out connection is counted (one per round trip). */
function countingPool(max = 4): { pool: pg.Pool; queries: () => number } {
  const pool = new pg.Pool({ connectionString: db.url, max });
  pools.push(pool);
  // The database is dropped WITH (FORCE) at the end: an idle connection ended by that is not a failure.
  pool.on("error", () => {});
  let sent = 0;
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      sent++;
      return query(...a);
    };
  });
  return { pool, queries: () => sent };
}

const INSERT: Sql = {
  name: "t_insert",
  text: `INSERT INTO t (k, v, n, tags) VALUES ($1, $2, $3, $4::text[]) RETURNING k, v, n, tags`,
};
const TOUCH: Sql = { text: `UPDATE t SET v = $2 WHERE k = $1` };
const run = (b: StatementBatch, q: Sql, values: unknown[]) => b.run(q, q.text, values);

describe("postgres group commit", () => {
  it("commits the writes of one turn in one round trip, each caller with its own rows", async () => {
    const { pool, queries } = countingPool();
    const batch = new StatementBatch(pool);
    const before = queries();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => run(batch, INSERT, [`one-${i}`, `v${i}`, i, [`t${i}`]])),
    );
    assert.deepEqual(
      results.map((r) => r.rows[0]),
      Array.from({ length: 50 }, (_, i) => ({ k: `one-${i}`, v: `v${i}`, n: String(i), tags: [`t${i}`] })),
    );
    // PREPARE once on the connection, then the 50 writes as one Query message.
    assert.ok(queries() - before <= 2, `${queries() - before} round trips for 50 writes`);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM t WHERE k LIKE 'one-%'`);
    assert.equal(rows[0].n, 50);
  });

  it("refuses only the write that fails; the others of its batch are committed", async () => {
    const { pool } = countingPool();
    const batch = new StatementBatch(pool);
    await run(batch, INSERT, ["dup", "first", 1, []]);
    const outcomes = await Promise.allSettled([
      run(batch, INSERT, ["fine-1", "a", 1, null]),
      run(batch, INSERT, ["dup", "second", 2, []]),
      run(batch, TOUCH, ["fine-1", "changed in the same batch"]),
      run(batch, INSERT, ["fine-2", "b", 2, null]),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "fulfilled", "fulfilled"],
    );
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /duplicate key/);
    assert.equal((outcomes[2] as PromiseFulfilledResult<pg.QueryResult>).value.rowCount, 1);
    const { rows } = await pool.query(`SELECT k, v FROM t WHERE k IN ('dup', 'fine-1', 'fine-2') ORDER BY k`);
    assert.deepEqual(rows, [
      { k: "dup", v: "first" },
      { k: "fine-1", v: "changed in the same batch" },
      { k: "fine-2", v: "b" },
    ]);
  });

  it("keeps every value exactly: quotes, backslashes, unicode, NULLs and awkward array elements", async () => {
    const { pool } = countingPool();
    const batch = new StatementBatch(pool);
    const awkward = [
      ["q-1", "it's a 'quote'", -42, ["a,b", 'say "hi"', "back\\slash", null, "{braces}", ""]],
      ["q-2", "back\\slash \\n not a newline; DROP TABLE t; --", 9007199254740991, []],
      ["q-3", "emoji 🐧 and ünïcode\nnew line\ttab", 0, ["NULL", "null"]],
      ["q-4", null, null, null],
      ["q-5", "$1 $2 placeholders in a value", 5, ["$1"]],
    ] as const;
    await Promise.all(awkward.map((v) => run(batch, INSERT, [...v])));
    const { rows } = await pool.query(`SELECT k, v, n, tags FROM t WHERE k LIKE 'q-%' ORDER BY k`);
    assert.deepEqual(
      rows,
      awkward.map(([k, v, n, tags]) => ({
        k,
        v,
        n: n === null ? null : String(n),
        tags: tags === null ? null : [...tags],
      })),
    );
  });

  it("never leaves behind a write handed in while a batch is committing", async () => {
    const { pool } = countingPool(1);
    const batch = new StatementBatch(pool);
    // Each write is handed in from the previous one's resolution: the moment the batch loop is finishing.
    let chain = Promise.resolve();
    for (let i = 0; i < 30; i++)
      chain = chain.then(() => run(batch, TOUCH, ["none", `x${i}`]).then(() => {}));
    await chain;
    await batch.settled();
    // And a pool of one still serves another transaction between batches.
    const c = await pool.connect();
    c.release();
  });

  it("refuses text with a NUL byte on its own, without cutting its batch short", async () => {
    const { pool } = countingPool();
    const batch = new StatementBatch(pool);
    const outcomes = await Promise.allSettled([
      run(batch, INSERT, ["nul-1", "before", 1, null]),
      run(batch, INSERT, ["nul-2", "a\u0000'; DELETE FROM t; --", 2, null]),
      run(batch, INSERT, ["nul-3", "after", 3, ["x\u0000"]]),
      run(batch, INSERT, ["nul-4", "last", 4, null]),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "rejected", "fulfilled"],
    );
    const { rows } = await pool.query(`SELECT k FROM t WHERE k LIKE 'nul-%' ORDER BY k`);
    assert.deepEqual(rows, [{ k: "nul-1" }, { k: "nul-4" }]);
    assert.equal(
      (await pool.query(`SELECT count(*)::int AS n FROM t`)).rows[0].n > 4,
      true,
      "nothing deleted",
    );
  });

  it("behind a pooler that loses PREPAREd statements, runs the batch again one by one and stops preparing", async () => {
    const { pool, queries } = countingPool(1);
    const batch = new StatementBatch(pool);
    const pair = (tag: string) =>
      Promise.all([
        run(batch, INSERT, [`${tag}-a`, tag, 1, null]),
        run(batch, INSERT, [`${tag}-b`, tag, 2, null]),
      ]);
    await pair("pooled-1");
    const prepared = async () =>
      (await pool.query(`SELECT name FROM pg_prepared_statements WHERE from_sql`)).rows.map((r) => r.name);
    assert.deepEqual(await prepared(), ["t_insert_batch"]);
    // What a pooler in transaction mode does: the next transaction runs on a server connection without it.
    await pool.query("DEALLOCATE ALL");
    await pair("pooled-2");
    const before = queries();
    await pair("pooled-3");
    assert.equal(queries() - before, 1, "the next batch goes out at once, with its values written in");
    assert.deepEqual(await prepared(), [], "nothing PREPAREd again once a pooler was seen");
    const { rows } = await pool.query(`SELECT k FROM t WHERE k LIKE 'pooled-%' ORDER BY k`);
    assert.deepEqual(
      rows.map((r) => r.k),
      ["pooled-1-a", "pooled-1-b", "pooled-2-a", "pooled-2-b", "pooled-3-a", "pooled-3-b"],
    );
  });

  it("gives writes whose values are bytes to the pool on their own", async () => {
    const { pool } = countingPool();
    const batch = new StatementBatch(pool);
    const r = await batch.run({ text: `SELECT length($1::bytea) AS n` }, `SELECT length($1::bytea) AS n`, [
      Buffer.from([0, 1, 2, 39, 92]),
    ]);
    assert.equal(r.rows[0].n, 5);
  });
});
