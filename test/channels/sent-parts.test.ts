import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { sendPartsOnce } from "../../src/channels/shared/sent-parts.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { tempDir } from "../helpers/gateway.ts";

it("a retry resumes after the parts already sent, and sends nothing when all went out before a crash", async () => {
  const store = new SqliteStore(join(tempDir(), "s.db"));
  await store.migrate();
  try {
    const sent: string[] = [];
    let failAt = 1;
    const send = async (p: string, i: number) => {
      if (i === failAt) throw new Error("429");
      sent.push(p);
      return i;
    };
    await assert.rejects(sendPartsOnce(store, "k1", ["a", "b", "c"], send));
    failAt = -1;
    assert.equal(await sendPartsOnce(store, "k1", ["a", "b", "c"], send), 2);
    assert.deepEqual(sent, ["a", "b", "c"], "the retry resumed at b");
    // The outbox may retry the whole item once more (a crash after the last send, before it was marked done).
    assert.equal(await sendPartsOnce(store, "k1", ["a", "b", "c"], send), undefined);
    assert.deepEqual(sent, ["a", "b", "c"], "nothing is sent twice");
    await sendPartsOnce(store, "k2", ["only"], send);
    await sendPartsOnce(store, "k2", ["only"], send);
    assert.deepEqual(sent.slice(3), ["only", "only"], "single-part deliveries are not tracked");
  } finally {
    await store.close();
  }
});
