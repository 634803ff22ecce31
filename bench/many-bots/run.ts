// npm run bench:many-bots — many Telegram bots in one gateway process (issue 14, item 7): N bot accounts
// long-polling one fake Bot API (test/fakes/telegram.ts), all in a `clawgate start` child process. Reports the
// process's resident memory once every bot is polling (idle) and again after the messages, and how long each
// bot took to answer one message: from the moment the update is queued at the fake (it wakes the bot's held
// getUpdates) to the fake receiving the bot's sendMessage. Messages are spread over --spread-ms so the rate is
// a realistic one rather than N at the same instant. The agent (test/fakes/openai-agent.ts) answers at once.
//
//   npm run bench:many-bots -- [--bots 1000] [--spread-ms 10000] [--settle-ms 3000] [--lease-ttl-ms 30000]
//                              [--rounds 1]   (messages per bot, one round after the other)
//                              [--heap-growth-percent 100]   (CLAWGATE_HEAP_GROWTH_PERCENT for the gateway)
//                              [--cpu-prof]   (the gateway's CPU profile goes to bench-profiles/)
//                              [--node-options="--max-semi-space-size=16"]   (NODE_OPTIONS for the gateway)
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { FakeAgent } from "../../test/fakes/openai-agent.ts";
import { type FakeBot, FakeTelegram } from "../../test/fakes/telegram.ts";

const { values: args } = parseArgs({
  options: {
    bots: { type: "string", default: "1000" },
    "spread-ms": { type: "string", default: "10000" },
    "settle-ms": { type: "string", default: "3000" },
    /** Each round sends every bot one more message (the same spread), to see memory after more than one burst. */
    rounds: { type: "string", default: "1" },
    /** channels.telegram.leaseTtlMs: each bot's poller lease is renewed every third of it. */
    "lease-ttl-ms": { type: "string" },
    "cpu-prof": { type: "boolean", default: false },
    "node-options": { type: "string", default: "" },
    /** CLAWGATE_HEAP_GROWTH_PERCENT for the gateway (src/runtime/heap-limits.ts). */
    "heap-growth-percent": { type: "string" },
  },
});
const N = Number(args.bots);
const SPREAD_MS = Number(args["spread-ms"]);
const SETTLE_MS = Number(args["settle-ms"]);
const ROUNDS = Math.max(1, Number(args.rounds));
const BIN = resolve(import.meta.dirname, "../../bin/clawgate.js");
const USER = 42;
const PROFILE_DIR = resolve(import.meta.dirname, "../../bench-profiles");

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;

const bots: FakeBot[] = Array.from({ length: N }, (_, i) => ({
  token: `${200000 + i}:AAbbCCddEEffGGhh${String(i).padStart(5, "0")}`,
  id: 200000 + i,
  username: `many_bot_${i}`,
}));
const telegram = await new FakeTelegram(bots).start();
const agent = await new FakeAgent({ reply: () => "pong" }).start();

const dir = mkdtempSync(join(tmpdir(), "clawgate-many-bots-"));
const accounts = Object.fromEntries(bots.map((b, i) => [`b${i}`, { botToken: b.token }]));
writeFileSync(
  join(dir, "clawgate.json"),
  JSON.stringify({
    server: { port: 0 },
    agentUrl: agent.url,
    channels: {
      telegram: {
        allowedUsers: String(USER),
        ...(args["lease-ttl-ms"] ? { leaseTtlMs: Number(args["lease-ttl-ms"]) } : {}),
        accounts,
      },
    },
  }),
);
const started = performance.now();
const proc = spawn(process.execPath, [BIN, "start"], {
  cwd: dir,
  env: {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: telegram.url,
    ...(args["heap-growth-percent"] ? { CLAWGATE_HEAP_GROWTH_PERCENT: args["heap-growth-percent"] } : {}),
    NODE_OPTIONS: [args["node-options"], args["cpu-prof"] ? `--cpu-prof --cpu-prof-dir=${PROFILE_DIR}` : ""]
      .join(" ")
      .trim(),
  },
  stdio: ["ignore", "pipe", "pipe"],
});
let out = "";
const exited = new Promise<number | null>((r) => proc.once("exit", (c) => r(c)));
await new Promise<void>((res, rej) => {
  const onData = (c: Buffer) => {
    out += c.toString();
    if (out.includes("clawgate is ready")) res();
  };
  proc.stdout.on("data", onData);
  proc.stderr.on("data", onData);
  void exited.then((c) =>
    rej(new Error(`gateway exited with ${c} before it was ready:\n${out.slice(-4000)}`)),
  );
});
const readyMs = performance.now() - started;

// Every bot holds a getUpdates: count distinct tokens that have polled.
const polling = new Set<string>();
let scanned = 0;
const scanPolls = () => {
  for (; scanned < telegram.calls.length; scanned++) {
    const c = telegram.calls[scanned]!;
    if (c.method === "getUpdates") polling.add(c.token);
  }
  return polling.size;
};
const pollDeadline = Date.now() + 120_000;
while (scanPolls() < N && Date.now() < pollDeadline) await sleep(100);
const allPollingMs = performance.now() - started;
await sleep(SETTLE_MS);
const idleRss = rssMb(proc.pid!);

// One message per bot per round, spread evenly; the answer is the bot's sendMessage to the user's chat.
let peakRss = idleRss;
const rssSampler = setInterval(() => {
  peakRss = Math.max(peakRss, rssMb(proc.pid!));
}, 100);
const latencies: number[] = [];
let answered = 0;
const load = [loadavg()[0]!];
for (let round = 0; round < ROUNDS; round++) {
  const sentAt = new Map<string, number>();
  const answeredAt = new Map<string, number>();
  let callIndex = telegram.calls.length;
  const collect = () => {
    for (; callIndex < telegram.calls.length; callIndex++) {
      const c = telegram.calls[callIndex]!;
      if (c.method === "sendMessage" && c.status === 200 && !answeredAt.has(c.token))
        answeredAt.set(c.token, c.at);
    }
    return answeredAt.size;
  };
  const t0 = Date.now();
  for (let i = 0; i < N; i++) {
    const due = t0 + (SPREAD_MS * i) / N;
    if (due > Date.now()) await sleep(due - Date.now());
    sentAt.set(bots[i]!.token, Date.now());
    telegram.userMessage(bots[i]!.token, { text: `ping ${round}.${i}`, userId: USER });
    collect();
  }
  const answerDeadline = Date.now() + 60_000;
  while (collect() < N && Date.now() < answerDeadline) await sleep(50);
  answered += answeredAt.size;
  for (const b of bots) {
    const at = answeredAt.get(b.token);
    latencies.push(at === undefined ? Number.POSITIVE_INFINITY : at - sentAt.get(b.token)!);
  }
  load.push(loadavg()[0]!);
}
const busyRss = rssMb(proc.pid!);
await sleep(SETTLE_MS);
const afterRss = rssMb(proc.pid!);
clearInterval(rssSampler);
peakRss = Math.max(peakRss, afterRss);

proc.kill("SIGTERM");
await exited;
await telegram.stop();
await agent.stop();

latencies.sort((a, b) => a - b);
const M = N * ROUNDS;
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))]!;
const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : "no answer");
console.log(
  `${N} Telegram bots in one process: ${cpus().length} CPUs, 1-min load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}`,
);
console.log(`ready after ${fmt(readyMs)}; all ${polling.size} bots polling after ${fmt(allPollingMs)}`);
console.log(
  `RSS: idle ${idleRss.toFixed(0)} MB, right after the messages ${busyRss.toFixed(0)} MB, ${SETTLE_MS} ms later ${afterRss.toFixed(0)} MB; highest seen ${peakRss.toFixed(0)} MB`,
);
console.log(
  `answers: ${answered}/${M}${ROUNDS > 1 ? ` (${ROUNDS} rounds)` : ""}; latency p50 ${fmt(pct(50))}, p95 ${fmt(pct(95))}, p99 ${fmt(pct(99))}, max ${fmt(latencies.at(-1)!)}; within 2 s: ${latencies.filter((l) => l <= 2000).length}/${M}`,
);
