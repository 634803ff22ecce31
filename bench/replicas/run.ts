// npm run bench:replicas — accepted-and-answered messages per second through the web chat API, with one, two
// and three replicas sharing PostgreSQL versus one replica on SQLite, all measured in the same run.
//
//   npm run bench:replicas -- [--messages 600] [--threads 24] [--rounds 2] [--targets sqlite1,pg1,pg2,pg3]
//
// Every replica is a real `clawgate start` process; the fake agent (agent-server.ts) is another; this process
// only sends. A message counts when it was acknowledged (202) AND its assistant reply is in the store.
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import pg from "pg";
import { type ChildGateway, startChildGateway, tempDir } from "../../test/helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../../test/helpers/postgres.ts";
import { WebchatClient } from "../../test/helpers/webchat.ts";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "600" },
    threads: { type: "string", default: "24" },
    rounds: { type: "string", default: "2" },
    targets: { type: "string", default: "sqlite1,pg1,pg2,pg3" },
  },
});
const MESSAGES = Number(args.messages);
const THREADS = Number(args.threads);
const ROUNDS = Number(args.rounds);
const TARGETS = args.targets.split(",");
const WARMUP = 48;

interface Deployment {
  replicas: ChildGateway[];
  answered(): Promise<number>;
  stop(): Promise<void>;
}

async function deploy(target: string, agentUrl: string): Promise<Deployment> {
  const count = Number(/\d+$/.exec(target)?.[0] ?? "1");
  const config = { agentUrl, agent: { retries: 0 } };
  if (target.startsWith("sqlite")) {
    const dir = tempDir("clawgate-bench-replicas-");
    const replicas = [await startChildGateway({ dir, config })];
    const file = join(dir, "data", "clawgate.db");
    return {
      replicas,
      answered: async () => {
        const db = new DatabaseSync(file, { readOnly: true });
        try {
          const row = db.prepare(`SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant'`).get();
          return Number((row as { n: number }).n);
        } finally {
          db.close();
        }
      },
      stop: async () => {
        await Promise.all(replicas.map((r) => r.kill("SIGTERM")));
      },
    };
  }
  const db: TestDatabase = await createTestDatabase("clawgate_bench");
  const env = { CLAWGATE_DATABASE_URL: `${db.url}?pool_max=8` };
  const replicas = await Promise.all(Array.from({ length: count }, () => startChildGateway({ config, env })));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return {
    replicas,
    answered: async () =>
      Number((await client.query(`SELECT COUNT(*) AS n FROM messages WHERE role = 'assistant'`)).rows[0].n),
    stop: async () => {
      await client.end();
      await Promise.all(replicas.map((r) => r.kill("SIGTERM")));
      await db.drop();
    },
  };
}

/** Sends `total` messages over `threads` lanes, round-robin over the replicas; resolves when all are answered. */
async function drive(d: Deployment, threads: string[], total: number, base: number): Promise<number> {
  const clients = d.replicas.map((r) => new WebchatClient(r.url));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    threads.map(async (thread, t) => {
      for (let i = next++; i < total; i = next++) {
        const res = await clients[(t + i) % clients.length]!.send(thread, `message ${i} of the benchmark`);
        if (res.status !== 202 || res.duplicate)
          throw new Error(`send failed: ${res.status} ${res.error ?? ""}`);
      }
    }),
  );
  const deadline = Date.now() + 120_000;
  while ((await d.answered()) < base + total) {
    if (Date.now() > deadline) throw new Error(`not all ${total} messages were answered within 120 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return total / ((performance.now() - started) / 1000);
}

async function measure(target: string, agentUrl: string): Promise<number> {
  const d = await deploy(target, agentUrl);
  try {
    const first = new WebchatClient(d.replicas[0]!.url);
    const threads = await Promise.all(
      Array.from({ length: THREADS }, (_, i) => first.createThread(`bench ${i}`)),
    );
    await drive(d, threads, WARMUP, 0);
    return await drive(d, threads, MESSAGES, WARMUP);
  } finally {
    await d.stop();
  }
}

const agentProc: ChildProcess = fork(join(import.meta.dirname, "agent-server.ts"), [], {
  stdio: ["ignore", "ignore", "inherit", "ipc"],
});
const agentUrl = await new Promise<string>((r) =>
  agentProc.once("message", (m) => r((m as { url: string }).url)),
);

const results = new Map<string, number[]>(TARGETS.map((t) => [t, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? TARGETS : [...TARGETS].reverse();
    for (const target of order) {
      const rate = await measure(target, agentUrl);
      results.get(target)!.push(rate);
      console.log(`round ${round + 1}  ${target.padEnd(8)} ${rate.toFixed(0).padStart(6)} msg/s`);
    }
  }
} finally {
  agentProc.disconnect();
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const baseline = TARGETS.includes("sqlite1") ? "sqlite1" : TARGETS[0]!;
console.log(
  `\n${MESSAGES} messages per measurement over ${THREADS} web chat threads, ${ROUNDS} round(s); ratio = median of per-round ratios to ${baseline}\n`,
);
console.log("| target | replicas | store | answered msg/s (median) | ratio to " + baseline + " |");
console.log("|---|---|---|---|---|");
for (const target of TARGETS) {
  const rates = results.get(target)!;
  const ratios = rates.map((r, i) => r / results.get(baseline)![i]!);
  const store = target.startsWith("sqlite") ? "SQLite" : "PostgreSQL";
  console.log(
    `| ${target} | ${/\d+$/.exec(target)?.[0]} | ${store} | ${median(rates).toFixed(0)} | ${median(ratios).toFixed(2)} |`,
  );
}
