// The shared SQL's two spellings (src/store/sql.ts): what each store actually sends to its database.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { it } from "node:test";
import * as SQL from "../../src/store/sql.ts";

it("sql: SQLite spelling numbers placeholders as written, drops casts and binds the clock after the last", () => {
  const { text, now } = SQL.sqliteText({
    text: "SELECT $2::bigint AS b, $1 AS a, {now} AS t, {now} - $2 AS d ORDER BY a{C}",
  });
  assert.equal(text, "SELECT ?2 AS b, ?1 AS a, ?3 AS t, ?3 - ?2 AS d ORDER BY a");
  assert.equal(now, true);
  const row = new DatabaseSync(":memory:").prepare(text).get("x", 5, 1000) as Record<string, unknown>;
  assert.deepEqual({ ...row }, { b: 5, a: "x", t: 1000, d: 995 });
});

it("sql: PostgreSQL spelling reads the database clock and orders keys byte-wise", () => {
  const text = SQL.postgresText({ text: "SELECT {now} + $1 ORDER BY key{C}" });
  assert.equal(text, `SELECT ${SQL.NOW_MS} + $1 ORDER BY key COLLATE "C"`);
});

it("sql: statements PostgreSQL keeps prepared never return `*` (a column added by a newer replica breaks them)", () => {
  const named = Object.values(SQL)
    .flatMap((v) =>
      v && typeof v === "object" && !Array.isArray(v) ? ("text" in v ? [v] : Object.values(v)) : [],
    )
    .filter(
      (q): q is SQL.Sql => typeof q === "object" && q !== null && "name" in q && typeof q.name === "string",
    );
  assert.ok(named.length >= 7, `found ${named.length} named statements`);
  for (const q of named) assert.doesNotMatch(q.text, /\*/, q.name);
});
