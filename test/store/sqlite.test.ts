import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
