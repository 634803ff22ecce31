// Device state under concurrency, on both stores (PostgreSQL with several replicas on one schema): rotations
// racing each other never lose a token that was handed out, and a revoke racing rotations always wins — no
// token of the device works afterwards.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeviceRegistry, type IssuedToken } from "../../src/pairing/devices.ts";
import type { Store } from "../../src/store/types.ts";
import { storesOfEachKind } from "../helpers/stores.ts";

const TTL = { tokenTtlMs: 3600_000, overlapMs: 300_000 };
const ROTATIONS = 12;
const TRIALS = 10;

/** Pairs a device through the approval queue and returns its id and first token. */
async function pairDevice(reg: DeviceRegistry) {
  const { request, pollToken } = await reg.createRequest({ name: "racer", requestedScopes: [] });
  assert.ok(await reg.approve(request.id, "admin"));
  const r = await reg.poll(request.id, pollToken);
  assert.equal(r.status, "approved");
  return (r as { issued: IssuedToken }).issued;
}

function races(name: string, replicas: () => Promise<Store[]>) {
  describe(`device races: ${name}`, () => {
    it("a revoke racing concurrent rotations always wins: revoked, and no token of the device works", async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const stores = await replicas();
        const regs = stores.map((s) => new DeviceRegistry(s, TTL));
        const first = await pairDevice(regs[0]!);
        const id = first.deviceId;
        try {
          // The revoke starts somewhere among the rotations, on another replica.
          const revokeAt = trial % (ROTATIONS + 1);
          const work: Promise<unknown>[] = [];
          for (let i = 0; i <= ROTATIONS; i++) {
            if (i === revokeAt) work.push(regs[(i + 1) % regs.length]!.revoke(id));
            if (i < ROTATIONS) work.push(regs[i % regs.length]!.issueToken(id));
          }
          const results = await Promise.all(work);
          const issued = results.filter(
            (r): r is IssuedToken => typeof r === "object" && r !== null && "token" in r,
          );
          const device = await regs[0]!.getDevice(id);
          assert.ok(device?.revokedAt, `trial ${trial}: the device is revoked`);
          for (const t of [first, ...issued]) {
            const v = await regs[trial % regs.length]!.verify(id, t.token);
            assert.deepEqual(
              v.ok ? "works" : v.reason,
              "revoked",
              `trial ${trial}: token ${t.tokenId} must be refused as revoked`,
            );
          }
          assert.equal(await regs[0]!.issueToken(id), undefined, "no rotation after a revoke");
        } finally {
          await closeAll(stores);
        }
      }
    });

    it("concurrent rotations each add their token: every token handed out works within the overlap", async () => {
      const stores = await replicas();
      const regs = stores.map((s) => new DeviceRegistry(s, TTL));
      const first = await pairDevice(regs[0]!);
      const issued = await Promise.all(
        Array.from({ length: ROTATIONS }, (_, i) => regs[i % regs.length]!.issueToken(first.deviceId)),
      );
      assert.ok(issued.every(Boolean), "every rotation succeeded");
      for (const t of [first, ...(issued as IssuedToken[])]) {
        const v = await regs[1 % regs.length]!.verify(first.deviceId, t.token);
        assert.equal(v.ok, true, `token ${t.tokenId} handed out as valid must work`);
      }
      const device = await regs[0]!.getDevice(first.deviceId);
      assert.equal(device?.tokens.length, ROTATIONS + 1, "no rotation overwrote another");
    });

    it("admins answering one request at once: one answer wins, and at most one device exists", async () => {
      const stores = await replicas();
      const regs = stores.map((s) => new DeviceRegistry(s, TTL));
      const { request } = await regs[0]!.createRequest({ name: "twice", requestedScopes: [] });
      const answers = await Promise.all([
        ...Array.from({ length: 6 }, (_, i) => regs[i % regs.length]!.approve(request.id, `admin${i}`)),
        regs[1 % regs.length]!.reject(request.id),
      ]);
      const winners = answers.filter(Boolean);
      assert.equal(winners.length, 1, "exactly one approval or the rejection");
      const devices = await regs[0]!.listDevices();
      assert.equal(devices.length, winners[0]!.status === "approved" ? 1 : 0);
      if (winners[0]!.status === "approved") assert.equal(devices[0]!.id, winners[0]!.deviceId);
    });

    it("with no overlap, exactly the last committed rotation's token works", async () => {
      const stores = await replicas();
      const regs = stores.map((s) => new DeviceRegistry(s, { ...TTL, overlapMs: 0 }));
      const first = await pairDevice(regs[0]!);
      const issued = (await Promise.all(
        Array.from({ length: ROTATIONS }, (_, i) => regs[i % regs.length]!.issueToken(first.deviceId)),
      )) as IssuedToken[];
      const working: string[] = [];
      for (const t of [first, ...issued]) {
        if ((await regs[0]!.verify(first.deviceId, t.token)).ok) working.push(t.tokenId);
      }
      assert.equal(working.length, 1, `one token works: ${working.join(", ")}`);
      const device = await regs[0]!.getDevice(first.deviceId);
      assert.equal(device?.tokens.at(-1)?.id, working[0], "the one committed last");
    });
  });
}

/** Closes a trial's stores at once: PostgreSQL's connection slots are shared with other test files. */
const stores = storesOfEachKind("devices");
const closeAll = (these: Store[]) => stores.close(these);
let schemas = 0;

races("postgres, three replicas", async () => {
  const shared = `dev${schemas++}`;
  const replicas: Store[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await stores.open("postgres", { shared, max: 4 }));
  return replicas;
});

races("sqlite", async () => [await stores.open("sqlite")]);

describe("token lifetime", () => {
  it("a rotation asking for more than tokenTtlMs is capped at tokenTtlMs", async () => {
    const s = await stores.open("sqlite");
    const reg = new DeviceRegistry(s, { tokenTtlMs: 600_000, overlapMs: 0 });
    const first = await pairDevice(reg);
    const before = Date.now();
    const long = await reg.issueToken(first.deviceId, { ttlMs: 86_400_000 });
    assert.ok(long && long.expiresAt <= Date.now() + 600_000, "capped at the configured 10 minutes");
    assert.ok(long.expiresAt >= before + 600_000);
    const stored = (await reg.getDevice(first.deviceId))?.tokens.find((t) => t.id === long.tokenId);
    assert.equal(stored?.expiresAt, long.expiresAt, "the stored expiry is the capped one");
    const short = await reg.issueToken(first.deviceId, { ttlMs: 120_000 });
    assert.ok(short && short.expiresAt <= Date.now() + 120_000, "a shorter lifetime is honoured");
  });
});
