// npm run bench:outbox-backlog — does an outbox claim cost depend on the deliveries piled up behind a platform
// that is down? Two real stores of one kind side by side: in both, `lanes` conversations have a delivery that
// failed and waits for a retry a day away; behind those, nothing in one store and `backlog` deliveries in the
// other (planned by inbox completions, as answers are). Two claims are timed, for one channel as the outbox
// worker asks: "blocked", a claim that finds nothing (what every wake-up costs while the platform is down), and
// "one ready", a claim that finds the one delivery of a fresh conversation (then delivered, untimed; on SQLite
// the claim's own commit, an fsync, is most of it). The stores take turns call by call, so a neighbour's burst
// of load lands on both; medians of `claims` calls, in microseconds, and the ratio backlog / empty.
//
//   npm run bench:outbox-backlog -- [--backlog 100000] [--lanes 1000] [--claims 300] [--stores sqlite,postgres]
// Results: docs/benchmarks.md.
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { NewOutboxItem, Store } from "../../src/store/types.ts";
import { openStore } from "../backlog/claim.ts";

const { values: args } = parseArgs({
  options: {
    backlog: { type: "string", default: "100000" },
    lanes: { type: "string", default: "1000" },
    claims: { type: "string", default: "300" },
    stores: { type: "string", default: "sqlite,postgres" },
  },
});
const backlog = Number(args.backlog);
const lanes = Number(args.lanes);
const count = Number(args.claims);

const payload = JSON.stringify({ text: "x".repeat(600) });
const delivery = (key: string, sessionKey: string): NewOutboxItem => ({
  idempotencyKey: key,
  sessionKey,
  channel: "telegram",
  account: "bot",
  payload,
});
const TELEGRAM = { owner: "bench", leaseMs: 30_000, limit: 8, channels: ["telegram"] };

let completions = 0;
/** `items` into the outbox the way answers get there: as the effects of one inbox completion. */
async function plan(store: Store, items: NewOutboxItem[]) {
  const id = `answered${completions++}`;
  await store.enqueueInbound({ id, sessionKey: id, payload: "{}", receivedAt: Date.now() });
  const [claimed] = await store.claimInbound({ owner: "seed", leaseMs: 60_000, limit: 1 });
  if (claimed?.id !== id) throw new Error(`seeding claimed ${claimed?.id}, not ${id}`);
  if (!(await store.completeInbound(id, "seed", { outbox: items })))
    throw new Error("seeding lost its lease");
}

async function seed(store: Store, queued: number) {
  for (let l = 0; l < lanes; l += 1000) {
    const n = Math.min(1000, lanes - l);
    await plan(
      store,
      Array.from({ length: n }, (_, k) => delivery(`head${l + k}`, `telegram:bot:${l + k}`)),
    );
  }
  // The platform is down: every conversation's first delivery fails and waits a day for its retry.
  for (let failed = 0; failed < lanes; ) {
    const heads = await store.claimOutbound({ ...TELEGRAM, owner: "down", limit: 500 });
    if (heads.length === 0) throw new Error(`only ${failed} of ${lanes} heads were claimable`);
    for (const h of heads)
      await store.failOutbound(h.id, "down", "502", { retryAt: Date.now() + 86_400_000 });
    failed += heads.length;
  }
  for (let done = 0; done < queued; done += 1000) {
    const n = Math.min(1000, queued - done);
    await plan(
      store,
      Array.from({ length: n }, (_, k) => delivery(`q${done + k}`, `telegram:bot:${(done + k) % lanes}`)),
    );
  }
  const stats = await store.outboxStats();
  if (stats.pending !== lanes + queued)
    throw new Error(`seeded ${stats.pending} pending, not ${lanes + queued}`);
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const out = await fn();
  return [out, Number(process.hrtime.bigint() - t) / 1000];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(kind: string) {
  const backlogs = [0, backlog];
  const opened = await Promise.all(backlogs.map(() => openStore(kind)));
  try {
    for (let k = 0; k < opened.length; k++) await seed(opened[k]!.store, backlogs[k]!);
    const blocked = backlogs.map(() => [] as number[]);
    const ready = backlogs.map(() => [] as number[]);
    for (const { store } of opened) for (let i = 0; i < 20; i++) await store.claimOutbound(TELEGRAM);
    for (let i = 0; i < count; i++) {
      for (const k of i % 2 ? [1, 0] : [0, 1]) {
        const [got, micros] = await timed(() => opened[k]!.store.claimOutbound(TELEGRAM));
        if (got.length) throw new Error(`a blocked conversation handed out ${got[0]!.idempotencyKey}`);
        blocked[k]!.push(micros);
      }
    }
    for (let i = 0; i < count; i++) {
      for (const k of i % 2 ? [1, 0] : [0, 1]) {
        const s = opened[k]!.store;
        await s.enqueueOutbound(delivery(`fresh${i}`, `telegram:bot:fresh${i}`));
        const [got, micros] = await timed(() => s.claimOutbound(TELEGRAM));
        if (got.length !== 1 || got[0]!.idempotencyKey !== `fresh${i}`)
          throw new Error(`expected fresh${i}, got ${got.map((x) => x.idempotencyKey).join(", ")}`);
        ready[k]!.push(micros);
        await s.completeOutbound(got[0]!.id, "bench", "sent");
      }
    }
    const [b0, b1] = blocked.map(median);
    const [r0, r1] = ready.map(median);
    console.log(
      `${kind.padEnd(8)}  blocked: ${b0!.toFixed(0)} µs empty, ${b1!.toFixed(0)} µs with ${backlog} queued ` +
        `(ratio ${(b1! / b0!).toFixed(2)});  one ready: ${r0!.toFixed(0)} µs empty, ${r1!.toFixed(0)} µs ` +
        `(ratio ${(r1! / r0!).toFixed(2)})`,
    );
  } finally {
    for (const { store, drop } of opened) {
      await store.close();
      await drop();
    }
  }
}

console.log(
  `outbox claim cost: ${lanes} conversations blocked behind a failed delivery, 0 vs ${backlog} deliveries ` +
    `queued behind them; median of ${count} claims each; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")}`,
);
for (const kind of args.stores.split(",")) await measure(kind);
console.log(
  `load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")}`,
);
