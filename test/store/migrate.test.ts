// The shared migration runner against an in-memory dialect: what both stores rely on for their schema.
import assert from "node:assert/strict";
import { it } from "node:test";
import { type MigrationDialect, runMigrations } from "../../src/store/migrate.ts";

function memoryDialect(version: number) {
  const log: string[] = [];
  const db = { version, log, committed: false };
  const dialect: MigrationDialect = {
    exclusive: async (fn) => {
      const out = await fn({
        currentVersion: async () => db.version,
        apply: async (sql) => void log.push(sql),
        record: async (v) => {
          db.version = v;
        },
      });
      db.committed = true;
      return out;
    },
  };
  return { db, dialect };
}

it("migrate: applies only the migrations a database lacks, in order, recording each version", async () => {
  const { db, dialect } = memoryDialect(1);
  assert.deepEqual(await runMigrations(dialect, ["one", "two", "three"]), [2, 3]);
  assert.deepEqual(db.log, ["two", "three"]);
  assert.equal(db.version, 3);
  assert.deepEqual(await runMigrations(dialect, ["one", "two", "three"]), [], "a second run changes nothing");
});

it("migrate: refuses a schema from a newer clawgate before applying anything", async () => {
  const { db, dialect } = memoryDialect(5);
  await assert.rejects(runMigrations(dialect, ["one", "two"]), /schema is version 5 .* knows only 2/);
  assert.deepEqual(db.log, []);
  assert.equal(db.committed, false, "the exclusive run is rolled back, not committed");
});
