// The SQLite inbox keeps items queued behind an unfinished one of their lane out of the lane index and lets
// them in when it finishes (src/store/sqlite/inbox-waiting.ts). Whatever happens in between — completions,
// dead letters, immediate retries, operators reviving or discarding dead items, one by one or all at once —
// every claim must hand out exactly what the plain rule says: per lane, nothing while an item of the lane is
// in flight, else its oldest unfinished item. Checked against that rule as a model, on a new database and on
// one upgraded from the schema before the change with a backlog already in it.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { it } from "node:test";
import fc from "fast-check";
import { INBOX_WAITING_MIGRATION } from "../../src/store/sqlite/inbox-waiting.ts";
import { sqliteMigrations } from "../../src/store/sqlite/migrations.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";

type State = "pending" | "leased" | "done" | "dead";
interface Item {
  id: string;
  lane: string;
  state: State;
}

type Op =
  | { kind: "enqueue"; lane: number }
  | { kind: "claim" }
  | { kind: "complete" | "dead" | "retryNow"; pick: number }
  | { kind: "revive" | "discard"; pick: number }
  | { kind: "reviveAll" };

const LANES = ["a", "b", "c"];
const OWNER = "w";
const FAR_LEASE = 3_600_000;

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant("enqueue" as const), lane: fc.nat(LANES.length - 1) }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: "claim" as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom("complete" as const, "dead" as const, "retryNow" as const),
      pick: fc.nat(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constantFrom("revive" as const, "discard" as const), pick: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "reviveAll" as const }) },
);

/** The rule: per lane, nothing while one of its items is leased, else its oldest pending-or-leased item. */
function modelClaim(items: Item[]): string[] {
  const out: string[] = [];
  for (const lane of LANES) {
    const mine = items.filter((i) => i.lane === lane);
    if (mine.some((i) => i.state === "leased")) continue;
    const head = mine.find((i) => i.state === "pending");
    if (head) {
      head.state = "leased";
      out.push(head.id);
    }
  }
  return out.sort();
}

async function run(store: SqliteStore, items: Item[], ops: Op[], prefix: string) {
  let n = 0;
  const pick = (state: State, k: number) => {
    const some = items.filter((i) => i.state === state);
    return some.length ? some[k % some.length] : undefined;
  };
  for (const o of ops) {
    if (o.kind === "enqueue") {
      const item: Item = { id: `${prefix}${n++}`, lane: LANES[o.lane]!, state: "pending" };
      await store.enqueueInbound({ id: item.id, sessionKey: item.lane, payload: "{}", receivedAt: 0 });
      items.push(item);
    } else if (o.kind === "claim") {
      const got = await store.claimInbound({ owner: OWNER, leaseMs: FAR_LEASE, limit: 10 });
      assert.deepEqual(got.map((i) => i.id).sort(), modelClaim(items), "claimed");
    } else if (o.kind === "complete" || o.kind === "dead" || o.kind === "retryNow") {
      const item = pick("leased", o.pick);
      if (!item) continue;
      if (o.kind === "complete") assert.ok(await store.completeInbound(item.id, OWNER));
      else {
        const retry = o.kind === "dead" ? { dead: true as const } : { retryAt: 0 };
        assert.ok(await store.failInbound(item.id, OWNER, "boom", retry));
      }
      item.state = o.kind === "complete" ? "done" : o.kind === "dead" ? "dead" : "pending";
    } else if (o.kind === "revive" || o.kind === "discard") {
      const item = pick("dead", o.pick);
      if (!item) continue;
      assert.ok(await (o.kind === "revive" ? store.retryInbound(item.id) : store.discardInbound(item.id)));
      item.state = o.kind === "revive" ? "pending" : "done";
    } else {
      const revived = items.filter((i) => i.state === "dead");
      assert.equal(await store.retryAllDead("inbox"), revived.length);
      for (const i of revived) i.state = "pending";
    }
  }
  // Drained to the end, the lanes give up every unfinished item, each exactly once.
  for (const i of items) if (i.state === "dead") i.state = "done";
  for (const i of items) if (i.state === "leased") assert.ok(await store.completeInbound(i.id, OWNER));
  for (const i of items) if (i.state === "leased") i.state = "done";
  for (;;) {
    const got = await store.claimInbound({ owner: OWNER, leaseMs: FAR_LEASE, limit: 10 });
    assert.deepEqual(got.map((i) => i.id).sort(), modelClaim(items), "claimed while draining");
    if (!got.length) break;
    for (const g of got) {
      assert.ok(await store.completeInbound(g.id, OWNER));
      items.find((i) => i.id === g.id)!.state = "done";
    }
  }
  assert.deepEqual(
    items.filter((i) => i.state !== "done").map((i) => i.id),
    [],
    "every item was handed out",
  );
}

const dir = () => mkdtempSync(join(tmpdir(), "clawgate-lane-order-"));

it("sqlite inbox: every claim hands out what the lane rule says, whatever came before", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 80, size: "max" }), async (ops) => {
      const store = new SqliteStore(join(dir(), "s.db"), { synchronous: "NORMAL" });
      await store.migrate();
      try {
        await run(store, [], ops, "e");
      } finally {
        await store.close();
      }
    }),
    { numRuns: 60 },
  );
});

it("sqlite inbox: a backlog written before the upgrade keeps its order, and what comes after queues behind it", async () => {
  const before = sqliteMigrations.indexOf(INBOX_WAITING_MIGRATION);
  assert.ok(before > 0);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.nat(LANES.length - 1), { minLength: 1, maxLength: 12 }),
      fc.array(op, { maxLength: 50, size: "max" }),
      async (backlog, ops) => {
        const path = join(dir(), "old.db");
        const raw = new DatabaseSync(path);
        raw.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)`);
        for (let v = 0; v < before; v++) {
          raw.exec(sqliteMigrations[v]!);
          raw.prepare(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`).run(v + 1);
        }
        // The previous release's enqueue: the row, and the lane's row when it had none.
        const items: Item[] = backlog.map((l, i) => ({ id: `old${i}`, lane: LANES[l]!, state: "pending" }));
        for (const i of items) {
          raw
            .prepare(
              `INSERT INTO inbox (id, session_key, payload, received_at, available_at, updated_at) VALUES (?, ?, '{}', 0, 0, 0)`,
            )
            .run(i.id, i.lane);
          raw.prepare(`INSERT OR IGNORE INTO inbox_lanes (session_key, ready_at) VALUES (?, 0)`).run(i.lane);
        }
        raw.close();
        const store = new SqliteStore(path, { synchronous: "NORMAL" });
        await store.migrate();
        try {
          await run(store, items, ops, "new");
        } finally {
          await store.close();
        }
      },
    ),
    { numRuns: 30 },
  );
});
