import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { it } from "node:test";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
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
