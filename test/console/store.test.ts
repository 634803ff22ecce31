// The store statements the console added, on both stores: conversation search (text and author, any case, LIKE
// wildcards taken literally), discarding a dead item (finished, error kept, nothing else moves) and retrying
// every dead item of a queue at once.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { Store } from "../../src/store/types.ts";
import { tempDir } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";

let db: TestDatabase | undefined;
const open: Store[] = [];
after(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
  await db?.drop();
});

const stores: Record<string, () => Promise<Store>> = {
  sqlite: async () => new SqliteStore(join(tempDir(), "t.db")),
  postgres: async () => {
    db ??= await createTestDatabase();
    return new PostgresStore(db.url, { schema: "console", max: 2 });
  },
};

for (const [kind, make] of Object.entries(stores)) {
  describe(`console store statements: ${kind}`, () => {
    it("searchSessions, discard and retryAllDead", async () => {
      const s = await make();
      open.push(s);
      await s.migrate();
      await s.appendMessages([
        { sessionKey: "telegram:default:1", role: "user", content: "The Quiet HARBOUR", author: "Alice" },
        { sessionKey: "telegram:default:1", role: "assistant", content: "50% off", author: "openai (12 ms)" },
        { sessionKey: "line:default:2", role: "user", content: "quiet_street", author: "Bob" },
      ]);
      const keys = async (f: Parameters<Store["searchSessions"]>[0]) =>
        (await s.searchSessions(f)).map((x) => x.key).sort();
      assert.deepEqual(await keys({ text: "harbour" }), ["telegram:default:1"]);
      assert.deepEqual(await keys({ text: "quiet" }), ["line:default:2", "telegram:default:1"]);
      assert.deepEqual(await keys({ text: "quiet", prefix: "line:" }), ["line:default:2"]);
      assert.deepEqual(await keys({ text: "%" }), ["telegram:default:1"]);
      assert.deepEqual(await keys({ text: "t_s" }), ["line:default:2"], "'_' is a plain character");
      assert.deepEqual(await keys({ text: "y_s" }), []);
      assert.deepEqual(await keys({ author: "ALI" }), ["telegram:default:1"]);
      assert.deepEqual(await keys({ author: "bob", text: "harbour" }), []);
      assert.deepEqual(await keys({}), ["line:default:2", "telegram:default:1"]);

      for (const id of ["a", "b", "c"])
        await s.enqueueInbound({
          id: `t:d:${id}`,
          sessionKey: `lane-${id}`,
          payload: "{}",
          receivedAt: Date.now(),
        });
      const claimed = await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 10 });
      assert.equal(claimed.length, 3);
      for (const id of ["a", "b"]) await s.failInbound(`t:d:${id}`, "w", `broke ${id}`, { dead: true });
      assert.equal(await s.discardInbound("t:d:c"), false, "only dead items are discarded");
      assert.equal(await s.discardInbound("t:d:a"), true);
      const a = (await s.getInbound("t:d:a"))!;
      assert.deepEqual([a.state, a.lastError], ["done", "broke a"]);
      assert.equal(await s.retryAllDead("inbox"), 1);
      const b = (await s.getInbound("t:d:b"))!;
      assert.deepEqual([b.state, b.attempts], ["pending", 0]);
      assert.equal((await s.getInbound("t:d:c"))!.state, "leased");
      assert.equal(await s.retryAllDead("outbox"), 0);

      const out = await s.enqueueOutbound({
        idempotencyKey: "k1",
        sessionKey: "lane",
        channel: "t",
        account: "d",
        payload: "{}",
      });
      await s.claimOutbound({ owner: "w", leaseMs: 60_000, limit: 1 });
      await s.failOutbound(out.id, "w", "refused", { dead: true });
      assert.equal(await s.discardOutbound(out.id), true);
      const o = (await s.getOutbound(out.id))!;
      assert.deepEqual([o.state, o.lastError], ["done", "refused"]);
    });
  });
}
