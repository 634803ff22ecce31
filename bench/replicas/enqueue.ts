// npm run bench:pg-enqueue — does the PostgreSQL store's group commit pay? Durable inbox enqueues per second,
// `--concurrency` in flight, through PostgresStore.enqueueInbound (one INSERT … ON CONFLICT DO NOTHING per
// event-loop turn) versus one autocommitted INSERT per event on the same pool size, same run, alternating.
//
//   npm run bench:pg-enqueue -- [--count 3000] [--concurrency 64] [--rounds 3]
import { parseArgs } from "node:util";
import pg from "pg";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { createTestDatabase } from "../../test/helpers/postgres.ts";

const { values: args } = parseArgs({
  options: {
    count: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "64" },
    rounds: { type: "string", default: "3" },
  },
});
const COUNT = Number(args.count);
const CONCURRENCY = Number(args.concurrency);
const POOL = 8;

const db = await createTestDatabase("clawgate_bench");
const store = new PostgresStore(db.url, { max: POOL });
await store.migrate();
const plain = new pg.Pool({ connectionString: db.url, max: POOL });
let seq = 0;
const payload = JSON.stringify({ text: "x".repeat(600) });

async function run(enqueue: (id: string) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < COUNT) await enqueue(`bench:${seq++}`);
    }),
  );
  return COUNT / ((performance.now() - started) / 1000);
}

const grouped = (id: string) =>
  store.enqueueInbound({ id, sessionKey: `lane${seq % 50}`, payload, receivedAt: Date.now() });
const single = (id: string) =>
  plain.query(
    `INSERT INTO inbox (id, session_key, payload, received_at, available_at, updated_at)
     VALUES ($1, $2, $3, $4, $4, $4) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [id, `lane${seq % 50}`, payload, Date.now()],
  );

const ratios: number[] = [];
try {
  for (let r = 0; r < Number(args.rounds); r++) {
    const [a, b] = r % 2 === 0 ? [await run(single), await run(grouped)] : [0, 0];
    const [g, s] = r % 2 === 0 ? [b, a] : [await run(grouped), await run(single)];
    ratios.push(g / s);
    console.log(
      `round ${r + 1}: group commit ${g.toFixed(0)}/s, one INSERT per event ${s.toFixed(0)}/s, ratio ${(g / s).toFixed(2)}`,
    );
  }
  ratios.sort((x, y) => x - y);
  console.log(
    `median ratio (group commit ÷ per-event INSERT): ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}`,
  );
} finally {
  await store.close();
  await plain.end();
  await db.drop();
}
