// Many singletons in one process share one lease heartbeat: holding N leases costs about one store write per
// renewal round, not N. What each keeper promised on its own still holds, on both stores: a lease taken away
// stops only that work, a failed renewal stops the work, leases with different TTLs each stay renewed in time,
// and release gives the lease back.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createLogger } from "../../src/log.ts";
import { LeaseKeeper } from "../../src/runtime/lease-keeper.ts";
import { LeaseRenewals } from "../../src/runtime/lease-renewals.ts";
import type { Store } from "../../src/store/types.ts";
import { waitFor } from "../helpers/gateway.ts";
import { STORE_KINDS, storesOfEachKind } from "../helpers/stores.ts";

const log = createLogger("silent", { pretty: false });
const stores = storesOfEachKind("renewals");

/** The store's lease writes, counted: every take and every renewal call, however many leases it names. */
function counted(s: Store) {
  const count = { writes: 0, failRenewals: false };
  const acquire = s.acquireLease.bind(s);
  const renew = s.renewLeases.bind(s);
  s.acquireLease = (name, owner, ttl) => {
    count.writes++;
    return acquire(name, owner, ttl);
  };
  s.renewLeases = (names, owner, ttl) => {
    count.writes++;
    if (count.failRenewals) return Promise.reject(new Error("connection reset"));
    return renew(names, owner, ttl);
  };
  return count;
}

function keepers(s: Store, owner: string, names: string[], ttlMs: number) {
  const lost = new Set<string>();
  const ks = names.map(
    (name) => new LeaseKeeper({ store: s, name, owner, ttlMs, log, onLost: () => lost.add(name) }),
  );
  return { ks, lost };
}

/** Resolves once every named lease's expiry has moved past where it stood when this was called, `rounds` times. */
async function renewedRounds(s: Store, names: string[], rounds: number) {
  for (let r = 0; r < rounds; r++) {
    const before = new Map<string, number>();
    for (const name of names) before.set(name, (await s.leaseHolder(name))?.until ?? 0);
    await waitFor(
      async () => {
        for (const name of names)
          if (((await s.leaseHolder(name))?.until ?? 0) <= before.get(name)!) return false;
        return true;
      },
      10_000,
      "every lease to be renewed",
    );
  }
}

for (const kind of STORE_KINDS) {
  describe(`${kind}: one lease heartbeat per process`, () => {
    const store = () => stores.open(kind);

    it("40 leases held for three renewal rounds cost a few writes, not one per lease per round", async () => {
      const s = await store();
      const count = counted(s);
      const names = Array.from({ length: 40 }, (_, i) => `telegram:poller:${i}`);
      const { ks, lost } = keepers(s, "me", names, 600);
      for (const k of ks) assert.equal(await k.acquire(), true);
      const afterTakes = count.writes;
      await renewedRounds(s, names, 3);
      const renewals = count.writes - afterTakes;
      for (const k of ks) await k.release();
      assert.deepEqual([...lost], [], "no lease was lost");
      // Each keeper renewing on its own would be at least 3 × 40 = 120 writes.
      assert.ok(renewals <= 10, `${renewals} renewal writes for 40 leases over three rounds`);
      for (const name of names) assert.equal(await s.leaseHolder(name), undefined, `${name} released`);
    });

    it("a lease taken away stops only its own work; the others stay held", async () => {
      const s = await store();
      const names = ["a", "b", "c"];
      const { ks, lost } = keepers(s, "me", names, 600);
      for (const k of ks) assert.equal(await k.acquire(), true);
      // Another replica got "b" (as if ours had expired): released behind our back and taken.
      await s.releaseLease("b", "me");
      assert.equal(await s.acquireLease("b", "other", 60_000), true);
      await waitFor(() => lost.has("b"), 5000, "b's work to be stopped");
      await renewedRounds(s, ["a", "c"], 2);
      assert.deepEqual([...lost], ["b"]);
      assert.deepEqual(
        ks.map((k) => k.held),
        [true, false, true],
      );
      for (const k of ks) await k.release();
      assert.equal(
        (await s.leaseHolder("b"))?.owner,
        "other",
        "releasing a lost lease leaves the new holder",
      );
      assert.equal(await s.leaseHolder("a"), undefined);
    });

    it("a keeper whose take fails leaves the heartbeat, and joins it again when it takes the lease back", async () => {
      const s = await store();
      const { ks } = keepers(s, "me", ["z"], 60_000);
      const k = ks[0]!;
      assert.equal(await k.acquire(), true);
      assert.equal(LeaseRenewals.for(s, "me").size, 1);
      await s.releaseLease("z", "me");
      assert.equal(await s.acquireLease("z", "other", 60_000), true);
      assert.equal(await k.acquire(), false);
      assert.equal(LeaseRenewals.for(s, "me").size, 0, "a lease not held is not renewed");
      await s.releaseLease("z", "other");
      assert.equal(await k.acquire(), true);
      assert.equal(LeaseRenewals.for(s, "me").size, 1);
      await k.release();
      assert.equal(LeaseRenewals.for(s, "me").size, 0);
    });

    it("a failed renewal stops the work of every lease it carried", async () => {
      const s = await store();
      const count = counted(s);
      const warnings: string[] = [];
      const spy = { warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as typeof log;
      const lost = new Set<string>();
      const ks = ["x", "y"].map(
        (name) =>
          new LeaseKeeper({
            store: s,
            name,
            owner: "me",
            ttlMs: 3000,
            log: spy,
            onLost: () => lost.add(name),
          }),
      );
      for (const k of ks) assert.equal(await k.acquire(), true);
      count.failRenewals = true;
      await waitFor(() => lost.size === 2, 10_000, "both to be stopped");
      assert.deepEqual(
        ks.map((k) => k.held),
        [false, false],
      );
      // Stopped by the failure itself, not later by the deadline for an unconfirmed lease.
      assert.ok(warnings.includes("renewing a lease failed"), warnings.join("; "));
      assert.ok(!warnings.some((w) => w.startsWith("no lease renewal")), warnings.join("; "));
    });

    it("leases with different TTLs are each renewed in time, also after the shortest is released", async () => {
      const s = await store();
      const short = keepers(s, "me", ["short"], 300);
      const long = keepers(s, "me", ["long"], 1500);
      assert.equal(await short.ks[0]!.acquire(), true);
      assert.equal(await long.ks[0]!.acquire(), true);
      // Longer than the long lease's TTL: it must have been renewed, not left to expire.
      await renewedRounds(s, ["short", "long"], 2);
      const until = (await s.leaseHolder("long"))!.until;
      await short.ks[0]!.release();
      await renewedRounds(s, ["long"], 2);
      assert.ok((await s.leaseHolder("long"))!.until > until);
      assert.equal(long.ks[0]!.held, true);
      assert.deepEqual([...short.lost, ...long.lost], []);
      await long.ks[0]!.release();
      assert.equal(await s.leaseHolder("short"), undefined);
      assert.equal(await s.leaseHolder("long"), undefined);
    });
  });
}
