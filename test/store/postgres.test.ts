// The store contract against a real PostgreSQL (a fresh database for this file, a fresh schema per store),
// plus what only matters with several replicas: concurrent migrations, lane exclusivity across stores,
// atomic kv/lease operations, and dedup across stores.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LANE_QUEUES } from "../../src/store/lanes.ts";
import { leaseHeads, lockDueLanes } from "../../src/store/postgres/lanes-claim.ts";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { postgresText } from "../../src/store/sql.ts";
import type { QueueStats } from "../../src/store/types.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { storeContract } from "./contract.ts";

let db: TestDatabase;
let n = 0;
const open: PostgresStore[] = [];

before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await Promise.allSettled(open.map((s) => s.close()));
  await db?.drop();
});

/** A store on its own schema; `schema` shares one between several stores (replicas of one install). */
async function makeStore(schema = `s${n++}`, max = 4): Promise<PostgresStore> {
  const s = new PostgresStore(db.url, { schema, max });
  open.push(s);
  await s.migrate();
  return s;
}

storeContract("postgres", () => makeStore());

const item = (id: string, sessionKey: string) => ({
  id,
  sessionKey,
  payload: JSON.stringify({ id }),
  receivedAt: Date.now(),
});

interface Racer<T extends { sessionKey: string }> {
  enqueue(s: PostgresStore, lane: number, i: number): Promise<unknown>;
  claim(s: PostgresStore, owner: string): Promise<T[]>;
  /** Completes the item (true), or fails it for a retry (false: it comes back). */
  finish(s: PostgresStore, owner: string, item: T): Promise<boolean>;
  /** `<lane>-<i>`. */
  name(item: T): string;
  stats(s: PostgresStore): Promise<QueueStats>;
}

/**
 * Three replicas of one install: items trickle into four lanes (so lanes keep draining to empty, their rows
 * deleted, and reopening while claims run) while every replica claims and finishes. Returns what a user would
 * notice: items left over, two of one lane handed out at once, and each lane's finishing order.
 */
async function raceLanes<T extends { sessionKey: string }>(schema: string, r: Racer<T>) {
  const replicas = await Promise.all(Array.from({ length: 3 }, () => makeStore(schema, 3)));
  const lanes = 4;
  const total = 120;
  const active = new Set<string>();
  const violations: string[] = [];
  const order = new Map<string, number[]>();
  let producing = true;
  const produce = async () => {
    for (let i = 0; i < total; i++) {
      await r.enqueue(replicas[i % 3]!, i % lanes, i);
      if (i % 3 === 0) await new Promise((res) => setImmediate(res));
    }
    producing = false;
  };
  const work = async (s: PostgresStore, owner: string) => {
    for (let idle = 0; idle < 50; ) {
      const claimed = await r.claim(s, owner);
      if (claimed.length === 0) {
        if (!producing) idle++;
        await new Promise((res) => setTimeout(res, 2));
        continue;
      }
      idle = 0;
      await Promise.all(
        claimed.map(async (it) => {
          if (active.has(it.sessionKey))
            violations.push(`${owner} got ${r.name(it)} while its lane was busy`);
          active.add(it.sessionKey);
          await new Promise((res) => setImmediate(res));
          // Leave the lane before finishing: the next item cannot be claimed before this commit lands.
          active.delete(it.sessionKey);
          const [lane, i] = r.name(it).split("-");
          if (await r.finish(s, owner, it)) order.set(lane!, [...(order.get(lane!) ?? []), Number(i)]);
        }),
      );
    }
  };
  await Promise.all([produce(), ...replicas.map((s, i) => work(s, `r${i}`))]);
  return { stats: await r.stats(replicas[0]!), violations, order };
}

describe("postgres: several replicas on one database", () => {
  it("applies migrations once when five replicas start at the same moment", async () => {
    const schema = `mig${n++}`;
    const stores = Array.from({ length: 5 }, () => new PostgresStore(db.url, { schema, max: 2 }));
    open.push(...stores);
    await Promise.all(stores.map((s) => s.migrate()));
    await stores[0]!.enqueueInbound(item("after-migrate", "l"));
    assert.equal((await stores[4]!.getInbound("after-migrate"))?.state, "pending");
    const check = new PostgresStore(db.url, { schema, max: 1 });
    open.push(check);
    await check.migrate();
    assert.equal((await check.inboxStats()).pending, 1, "a second migrate changes nothing");
  });

  it("refuses a database migrated by a newer clawgate with an instruction", async () => {
    const schema = `newer${n++}`;
    const s = await makeStore(schema, 1);
    const pg = await import("pg");
    const c = new pg.default.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`INSERT INTO ${schema}.schema_migrations (version, applied_at) VALUES (99, 0)`);
    await c.end();
    await assert.rejects(s.migrate(), /upgrade clawgate on every replica/);
  });

  it("rejects a schema name that is not a plain identifier", () => {
    assert.throws(() => new PostgresStore(db.url, { schema: "x; DROP TABLE inbox" }), /SQL identifier/);
  });

  it("deduplicates the same event id enqueued through different replicas at once", async () => {
    const schema = `dedup${n++}`;
    const [a, b] = [await makeStore(schema, 2), await makeStore(schema, 2)];
    const ids = Array.from({ length: 50 }, (_, i) => `tg:bot:${i}`);
    const results = await Promise.all(
      ids.flatMap((id) => [a.enqueueInbound(item(id, `lane${id}`)), b.enqueueInbound(item(id, `lane${id}`))]),
    );
    assert.equal(results.filter((r) => r === "inserted").length, 50);
    assert.equal(results.filter((r) => r === "duplicate").length, 50);
    assert.equal((await a.inboxStats()).pending, 50);
  });

  it("resolves an enqueue only once it is committed: another replica reads it at once", async () => {
    const schema = `durable${n++}`;
    const [a, b] = [await makeStore(schema, 2), await makeStore(schema, 2)];
    const batch = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.enqueueInbound(item(`d${i}`, `l${i % 3}`))),
    );
    assert.deepEqual(
      batch.map((r, i) => (i < 3 ? r : r === "queued")),
      ["inserted", "inserted", "inserted", ...Array(17).fill(true)],
      "the first item of each lane opens it, the rest queue behind",
    );
    assert.equal((await b.inboxStats()).pending, 20);
  });

  it("never leases two items of one lane at once across four replicas, and keeps lane order", async () => {
    const schema = `lanes${n++}`;
    const replicas = await Promise.all(Array.from({ length: 4 }, () => makeStore(schema, 2)));
    const lanes = 6;
    const perLane = 15;
    for (let i = 0; i < perLane; i++) {
      await Promise.all(
        Array.from({ length: lanes }, (_, l) =>
          replicas[l % 4]!.enqueueInbound(item(`L${l}-${i}`, `lane${l}`)),
        ),
      );
    }
    const active = new Set<string>();
    const order = new Map<string, number[]>();
    const violations: string[] = [];
    let done = 0;
    const worker = async (s: PostgresStore, owner: string) => {
      while (done < lanes * perLane) {
        const claimed = await s.claimInbound({ owner, leaseMs: 30_000, limit: 3 });
        if (claimed.length === 0) {
          await new Promise((r) => setTimeout(r, 2));
          continue;
        }
        await Promise.all(
          claimed.map(async (it) => {
            if (active.has(it.sessionKey)) violations.push(`${owner} got ${it.id} while its lane was busy`);
            active.add(it.sessionKey);
            await new Promise((r) => setTimeout(r, Math.random() * 4));
            // Leave the lane before committing: the next item cannot be claimed before this commit lands.
            active.delete(it.sessionKey);
            const list = order.get(it.sessionKey) ?? [];
            list.push(Number(it.id.split("-")[1]));
            order.set(it.sessionKey, list);
            assert.equal(await s.completeInbound(it.id, owner), true);
            done++;
          }),
        );
      }
    };
    await Promise.all(replicas.map((s, i) => worker(s, `r${i}`)));
    assert.deepEqual(violations, []);
    for (const [lane, seen] of order) {
      assert.deepEqual(
        seen,
        Array.from({ length: perLane }, (_, i) => i),
        `${lane} processed in order`,
      );
    }
    assert.equal((await replicas[0]!.inboxStats()).done, lanes * perLane);
  });

  it("strands no event when enqueues race claims and completions of the same lanes across replicas", async () => {
    const { stats, violations, order } = await raceLanes(`race${n++}`, {
      enqueue: (s, lane, i) => s.enqueueInbound(item(`R${lane}-${i}`, `lane${lane}`)),
      claim: (s, owner) => s.claimInbound({ owner, leaseMs: 30_000, limit: 2 }),
      finish: async (s, owner, it) => {
        assert.equal(await s.completeInbound(it.id, owner), true);
        return true;
      },
      name: (it) => it.id,
      stats: (s) => s.inboxStats(),
    });
    assert.deepEqual(violations, []);
    assert.deepEqual(stats, { pending: 0, leased: 0, done: 120, dead: 0 }, "every event was claimed");
    for (const [lane, seen] of order)
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
        `${lane} in order`,
      );
  });

  it("gives a lane to events inserted by a replica that predates lanes (rolling upgrade)", async () => {
    const schema = `oldwriter${n++}`;
    const s = await makeStore(schema, 2);
    const pg = await import("pg");
    const c = new pg.default.Client({ connectionString: db.url });
    await c.connect();
    try {
      // The previous release's enqueue, on a connection without this install's search_path: the inbox row only.
      await c.query(
        `INSERT INTO ${schema}.inbox (id, session_key, payload, received_at, available_at, updated_at)
         VALUES ('old1', 'old-lane', '{}', 1, 0, 0), ('old2', 'old-lane', '{}', 1, 0, 0)`,
      );
    } finally {
      await c.end();
    }
    assert.deepEqual(
      (await s.claimInbound({ owner: "new", leaseMs: 30_000, limit: 5 })).map((x) => x.id),
      ["old1"],
    );
    assert.equal(await s.completeInbound("old1", "new"), true);
    assert.deepEqual(
      (await s.claimInbound({ owner: "new", leaseMs: 30_000, limit: 5 })).map((x) => x.id),
      ["old2"],
    );
  });

  it("outbox lanes across replicas: one delivery per conversation at a time", async () => {
    const schema = `out${n++}`;
    const [a, b] = [await makeStore(schema, 2), await makeStore(schema, 2)];
    const base = { channel: "telegram", account: "bot", payload: "{}" };
    for (let i = 0; i < 3; i++) {
      await a.enqueueOutbound({ ...base, sessionKey: "tg:bot:1", idempotencyKey: `x${i}` });
      await a.enqueueOutbound({ ...base, sessionKey: "tg:bot:2", idempotencyKey: `y${i}` });
    }
    const [ca, cb] = await Promise.all([
      a.claimOutbound({ owner: "a", leaseMs: 30_000, limit: 10, channels: ["telegram"] }),
      b.claimOutbound({ owner: "b", leaseMs: 30_000, limit: 10, channels: ["telegram"] }),
    ]);
    const keys = [...ca, ...cb].map((o) => o.idempotencyKey).sort();
    assert.deepEqual(keys, ["x0", "y0"]);
    assert.deepEqual(await b.claimOutbound({ owner: "b", leaseMs: 30_000, limit: 10, channels: [] }), []);
  });

  it("outbox lanes: strands no delivery and keeps each conversation in order when enqueues race claims, failures and completions across replicas", async () => {
    const { stats, violations, order } = await raceLanes(`outrace${n++}`, {
      enqueue: (s, lane, i) =>
        s.enqueueOutbound({
          idempotencyKey: `${lane}-${i}`,
          sessionKey: `telegram:bot:${lane}`,
          channel: "telegram",
          account: "bot",
          payload: "{}",
        }),
      claim: (s, owner) => s.claimOutbound({ owner, leaseMs: 30_000, limit: 2, channels: ["telegram"] }),
      finish: async (s, owner, d) => {
        // Every fifth delivery fails once with a retry already due: it must come back before its lane moves on.
        if (d.attempts === 1 && d.id % 5 === 0) {
          assert.equal(await s.failOutbound(d.id, owner, "429", { retryAt: 0 }), true);
          return false;
        }
        assert.equal(await s.completeOutbound(d.id, owner, "sent"), true);
        return true;
      },
      name: (d) => d.idempotencyKey,
      stats: (s) => s.outboxStats(),
    });
    assert.deepEqual(violations, []);
    assert.deepEqual(stats, { pending: 0, leased: 0, done: 120, dead: 0 }, "every delivery was made");
    for (const [lane, seen] of order) {
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => a - b),
        `conversation ${lane} delivered in order`,
      );
    }
  });

  it("an outbox claim reads the due lanes and their heads, not the 5,000 deliveries queued behind a failing one", async () => {
    const schema = `outrows${n++}`;
    const s = await makeStore(schema, 2);
    const d = (key: string, sessionKey: string) => ({
      idempotencyKey: key,
      sessionKey,
      channel: "telegram",
      account: "bot",
      payload: "{}",
    });
    const head = await s.enqueueOutbound(d("down:0", "telegram:bot:down"));
    await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 5 });
    await s.failOutbound(head.id, "o", "502", { retryAt: Date.now() + 600_000 });
    await s.enqueueInbound(item("answered", "telegram:bot:down"));
    await s.claimInbound({ owner: "w", leaseMs: 60_000, limit: 1 });
    const queued = Array.from({ length: 5000 }, (_, k) => d(`down:${k + 1}`, "telegram:bot:down"));
    assert.equal(await s.completeInbound("answered", "w", { outbox: queued }), true);
    assert.deepEqual(await s.claimOutbound({ owner: "o", leaseMs: 60_000, limit: 5 }), []);
    await s.enqueueOutbound(d("up:0", "telegram:bot:up"));
    // The claim's two statements, explained with ANALYZE inside a transaction that is rolled back: every row
    // the executor read from the outbox and its lanes, counting those a filter threw away.
    const pg = await import("pg");
    const c = new pg.default.Client({ connectionString: db.url, options: `-c search_path=${schema}` });
    await c.connect();
    const examined = (plan: Record<string, unknown>): number => {
      const loops = Number(plan["Actual Loops"] ?? 1);
      const own = /^outbox/.test(String(plan["Relation Name"] ?? ""))
        ? (Number(plan["Actual Rows"] ?? 0) + Number(plan["Rows Removed by Filter"] ?? 0)) * loops
        : 0;
      const children = (plan.Plans as Record<string, unknown>[] | undefined) ?? [];
      return own + children.reduce((sum, p) => sum + examined(p), 0);
    };
    const explain = async (q: { text: string }, values: unknown[]) => {
      const { rows } = await c.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${postgresText(q)}`, values);
      return examined(rows[0]["QUERY PLAN"][0].Plan);
    };
    try {
      await c.query("BEGIN");
      const lane = LANE_QUEUES.outbox;
      const due = await c.query(postgresText(lockDueLanes(lane, true)), [8, ["telegram"]]);
      assert.deepEqual(
        due.rows.map((r) => r.session_key),
        ["telegram:bot:up"],
        "the blocked conversation is not due",
      );
      const dueRows = await explain(lockDueLanes(lane, true), [8, ["telegram"]]);
      const leaseRows = await explain(leaseHeads(lane, ["id"]), [
        ["telegram:bot:up", "telegram:bot:down"],
        "o",
        60_000,
        Date.now(),
        ["telegram"],
      ]);
      assert.ok(dueRows < 20, `finding due lanes read ${dueRows} rows`);
      assert.ok(
        leaseRows < 50,
        `leasing the heads of two lanes, one with 5,000 behind its head, read ${leaseRows} rows`,
      );
    } finally {
      await c.query("ROLLBACK").catch(() => {});
      await c.end();
    }
  });

  it("gives an outbox lane to deliveries inserted by a replica that predates outbox lanes (rolling upgrade)", async () => {
    const schema = `oldoutbox${n++}`;
    const s = await makeStore(schema, 2);
    const pg = await import("pg");
    const c = new pg.default.Client({ connectionString: db.url });
    await c.connect();
    try {
      // The previous release's enqueue, on a connection without this install's search_path: the outbox row only.
      await c.query(
        `INSERT INTO ${schema}.outbox (idempotency_key, session_key, channel, account, payload, available_at,
           created_at, updated_at)
         VALUES ('old1', 'telegram:bot:old', 'telegram', 'bot', '{}', 0, 0, 0),
                ('old2', 'telegram:bot:old', 'telegram', 'bot', '{}', 0, 0, 0)`,
      );
    } finally {
      await c.end();
    }
    const telegram = { owner: "new", leaseMs: 30_000, limit: 5, channels: ["telegram"] };
    const [first] = await s.claimOutbound(telegram);
    assert.equal(first?.idempotencyKey, "old1");
    assert.deepEqual(await s.claimOutbound(telegram), [], "one delivery per conversation at a time");
    assert.equal(await s.completeOutbound(first!.id, "new"), true);
    assert.deepEqual(
      (await s.claimOutbound(telegram)).map((x) => x.idempotencyKey),
      ["old2"],
    );
  });

  it("kvSetIfAbsent, kvTake and acquireLease have exactly one winner under concurrency", async () => {
    const schema = `atomic${n++}`;
    const replicas = await Promise.all(Array.from({ length: 3 }, () => makeStore(schema, 3)));
    const tries = Array.from({ length: 24 }, (_, i) => replicas[i % 3]!);
    const setResults = await Promise.all(tries.map((s, i) => s.kvSetIfAbsent("once", "k", `v${i}`, 60_000)));
    assert.equal(setResults.filter(Boolean).length, 1);
    await replicas[0]!.kvSet("tok", "t", "secret");
    const takes = await Promise.all(tries.map((s) => s.kvTake("tok", "t")));
    assert.deepEqual(
      takes.filter((v) => v !== undefined),
      ["secret"],
    );
    const leases = await Promise.all(
      tries.map((s, i) => s.acquireLease("telegram:poller:bot", `o${i}`, 5_000)),
    );
    assert.equal(leases.filter(Boolean).length, 1);
    const holder = await replicas[2]!.leaseHolder("telegram:poller:bot");
    assert.equal(holder?.owner, `o${leases.indexOf(true)}`);
  });
});
