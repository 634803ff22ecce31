// renewLeases on both stores: one write renews every lease the owner still holds, and never takes one back that
// was released or taken over after it expired (the renewing replica must stop that work, not resume it).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STORE_KINDS, storesOfEachKind } from "../helpers/stores.ts";

const stores = storesOfEachKind("renew");

for (const kind of STORE_KINDS) {
  describe(`${kind}: renewLeases`, () => {
    const store = () => stores.open(kind, { max: 2 });

    it("renews every lease still held and reports exactly those", async () => {
      const s = await store();
      for (const name of ["a", "b", "c"]) assert.equal(await s.acquireLease(name, "me", 1), true);
      assert.equal(await s.acquireLease("theirs", "other", 60_000), true);
      await new Promise((r) => setTimeout(r, 20)); // every one of mine has expired, none was taken
      const held = await s.renewLeases(["a", "b", "c", "a"], "me", 60_000);
      assert.deepEqual([...held].sort(), ["a", "b", "c"]);
      for (const name of ["a", "b", "c"]) {
        const h = await s.leaseHolder(name);
        assert.equal(h?.owner, "me", `${name} is live again`);
        assert.ok(h.until > Date.now() + 30_000, `${name} now runs for the new TTL`);
      }
      assert.deepEqual([...(await s.renewLeases(["theirs"], "me", 60_000))], [], "another owner's lease");
      assert.equal((await s.leaseHolder("theirs"))?.owner, "other");
      assert.deepEqual([...(await s.renewLeases([], "me", 60_000))], []);
    });

    it("does not take back a lease that was released or taken over", async () => {
      const s = await store();
      for (const name of ["kept", "released"]) assert.equal(await s.acquireLease(name, "me", 60_000), true);
      assert.equal(await s.acquireLease("expired", "me", 1), true);
      await s.releaseLease("released", "me");
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await s.acquireLease("expired", "other", 60_000), true, "taken over after expiry");
      const held = await s.renewLeases(["kept", "released", "expired"], "me", 60_000);
      assert.deepEqual([...held], ["kept"]);
      assert.equal(await s.leaseHolder("released"), undefined, "a released lease stays free");
      assert.equal((await s.leaseHolder("expired"))?.owner, "other", "the new holder keeps it");
    });
  });
}
