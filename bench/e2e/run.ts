// npm run bench:e2e — answered messages per second end to end: signed LINE webhooks from many conversations →
// the system under test → a streaming OpenAI-compatible fake agent → the fake LINE Messaging API, where each
// answer is counted. The baseline (baseline-server.ts) is the smallest durable loop written by hand; the
// gateway runs as a real `clawgate start` on SQLite and on PostgreSQL (one replica). All in one run, so the
// ratios hold on a noisy machine. Exits non-zero when any message was lost or answered twice.
//
//   npm run bench:e2e -- [--messages 1000] [--conversations 200] [--concurrency 32] [--rounds 1]
//                         [--targets baseline,sqlite,postgres] [--cpu-prof]
//
// The agent runs in its own process; the fake LINE API and the load driver share this one. Binds 127.0.0.1.
import { type ChildProcess, fork } from "node:child_process";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../../test/fakes/line.ts";
import { startChildGateway, tempDir } from "../../test/helpers/gateway.ts";
import { createTestDatabase } from "../../test/helpers/postgres.ts";
import { postgresBackendsCpuMs, processCpuMs } from "./cpu.ts";

const { values: args } = parseArgs({
  options: {
    messages: { type: "string", default: "1000" },
    conversations: { type: "string", default: "200" },
    concurrency: { type: "string", default: "32" },
    rounds: { type: "string", default: "1" },
    targets: { type: "string", default: "baseline,sqlite,postgres" },
    "cpu-prof": { type: "boolean", default: false },
  },
});
const MESSAGES = Number(args.messages);
const CONVERSATIONS = Number(args.conversations);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
const SECRET = "bench-line-channel-secret";
const profileDir = join(process.cwd(), "bench-profiles");
const execArgv = args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];

interface System {
  webhookUrl: string;
  /** CPU used so far by the system under test (its process, and its database's backends), in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

function forkChild(
  script: string,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(resolve(import.meta.dirname, script), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((ok, fail) => {
    child.once("message", (m) => ok({ child, url: (m as { url: string }).url }));
    child.once("exit", (code) => fail(new Error(`${script} exited with ${code}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once("exit", () => r());
    child.send("stop");
    // A child without a stop handler (the agent) ends when its IPC channel closes.
    child.disconnect();
  });
}

async function startSystem(target: string, agentUrl: string, line: FakeLine): Promise<System> {
  if (target === "baseline") {
    const dir = tempDir("clawgate-bench-e2e-");
    const { child, url } = await forkChild("baseline-server.ts", {
      SECRET,
      AGENT_URL: agentUrl,
      LINE_API: line.url,
      LINE_TOKEN: line.token,
      DB: join(dir, "baseline.db"),
    });
    return { webhookUrl: url, cpuMs: () => processCpuMs(child.pid), stop: () => stopChild(child) };
  }
  const db = target === "postgres" ? await createTestDatabase("clawgate_bench_e2e") : undefined;
  const gw = await startChildGateway({
    config: {
      agentUrl,
      agent: { retries: 0 },
      ...(db ? { database: { url: db.url } } : {}),
      channels: {
        line: {
          channelSecret: SECRET,
          channelAccessToken: line.token,
          apiBase: line.url,
          dmPolicy: "open",
        },
      },
    },
    env: execArgv.length ? { NODE_OPTIONS: execArgv.join(" ") } : {},
  });
  return {
    webhookUrl: `${gw.url}/line/webhook`,
    cpuMs: () => processCpuMs(gw.proc.pid) + (db ? postgresBackendsCpuMs(db.name) : 0),
    stop: async () => {
      await gw.kill("SIGTERM");
      await db?.drop();
    },
  };
}

interface RoundResult {
  target: string;
  answeredPerSec: number;
  p50: number;
  p99: number;
  cpuPerAnswer: number;
  lost: number;
  duplicated: number;
  refused: number;
}

async function round(target: string, agentUrl: string): Promise<RoundResult> {
  const line = await new FakeLine().start();
  const system = await startSystem(target, agentUrl, line);
  try {
    const users = Array.from({ length: CONVERSATIONS }, (_, i) => lineId("U", `bench-${i}`));
    const sentAt = new Map<string, number>();
    let next = 0;
    let refused = 0;
    const started = performance.now();
    const cpuBefore = system.cpuMs();
    const driver = async () => {
      while (next < MESSAGES) {
        const i = next++;
        const text = `m${i}.`;
        const event = lineTextEvent({
          text,
          userId: users[i % users.length]!,
          replyToken: line.issueReplyToken(600_000),
        });
        const body = JSON.stringify({ destination: "Ubench", events: [event] });
        sentAt.set(text, performance.now());
        const res = await fetch(system.webhookUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-line-signature": lineWebhookSignature(SECRET, body),
          },
          body,
        });
        await res.arrayBuffer();
        if (res.status !== 200) refused++;
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, driver));
    // Wait until every message has an answer, or until answers stop coming for 10 s.
    let seen = -1;
    let quietSince = performance.now();
    for (;;) {
      const answered = new Set(line.texts().map((t) => /m\d+\./.exec(t)?.[0])).size;
      if (answered >= MESSAGES) break;
      if (answered !== seen) [seen, quietSince] = [answered, performance.now()];
      else if (performance.now() - quietSince > 10_000) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const cpuUsed = system.cpuMs() - cpuBefore;
    const perMessage = new Map<string, number>();
    const latencies: number[] = [];
    const epoch = Date.now() - performance.now();
    let last = started;
    for (const call of line.calls) {
      for (const m of call.body.messages) {
        const key = /m\d+\./.exec(String(m.text ?? ""))?.[0];
        if (!key) continue;
        perMessage.set(key, (perMessage.get(key) ?? 0) + 1);
        const at = call.at - epoch;
        last = Math.max(last, at);
        if (perMessage.get(key) === 1) latencies.push(at - (sentAt.get(key) ?? at));
      }
    }
    latencies.sort((a, b) => a - b);
    const pct = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
    return {
      target,
      answeredPerSec: perMessage.size / ((last - started) / 1000),
      p50: pct(0.5),
      p99: pct(0.99),
      cpuPerAnswer: cpuUsed / Math.max(1, perMessage.size),
      lost: MESSAGES - perMessage.size,
      duplicated: [...perMessage.values()].reduce((n, c) => n + c - 1, 0),
      refused,
    };
  } finally {
    await system.stop();
    await line.stop();
  }
}

const { child: agentChild, url: agentUrl } = await forkChild("agent-server.ts");
const results: RoundResult[] = [];
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const target of args.targets.split(",")) {
      const res = await round(target, agentUrl);
      results.push(res);
      console.log(
        `round ${r + 1} ${target.padEnd(9)} ${res.answeredPerSec.toFixed(0).padStart(6)} answered/s  ` +
          `p50 ${res.p50.toFixed(0)} ms  p99 ${res.p99.toFixed(0)} ms  CPU ${res.cpuPerAnswer.toFixed(2)} ms/answer  ` +
          `lost ${res.lost}  duplicated ${res.duplicated}`,
      );
    }
  }
} finally {
  await stopChild(agentChild);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const rate = (t: string) => median(results.filter((r) => r.target === t).map((r) => r.answeredPerSec));
const base = rate("baseline");
console.log(
  `\n${MESSAGES} messages from ${CONVERSATIONS} conversations, ${CONCURRENCY} senders, ${ROUNDS} round(s); ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
);
const cpu = (t: string) => median(results.filter((r) => r.target === t).map((r) => r.cpuPerAnswer));
console.log("target     answered/s   ratio to baseline   p50 ms   p99 ms   CPU ms/answer");
for (const t of new Set(results.map((r) => r.target))) {
  const rs = results.filter((r) => r.target === t);
  console.log(
    `${t.padEnd(10)} ${rate(t).toFixed(0).padStart(10)}   ${base ? (rate(t) / base).toFixed(2).padStart(17) : "-".padStart(17)}` +
      `   ${median(rs.map((r) => r.p50))
        .toFixed(0)
        .padStart(6)}   ${median(rs.map((r) => r.p99))
        .toFixed(0)
        .padStart(6)}   ${cpu(t).toFixed(2).padStart(13)}`,
  );
}
if (rate("sqlite") && rate("postgres"))
  console.log(
    `postgres / sqlite: ${(rate("postgres") / rate("sqlite")).toFixed(2)} in answers per second; ` +
      `${(cpu("sqlite") / cpu("postgres")).toFixed(2)} in answers per CPU second (gateway and its database backends)`,
  );
const bad = results.filter((r) => r.lost || r.duplicated || r.refused);
if (bad.length) {
  for (const r of bad)
    console.error(`${r.target}: lost ${r.lost}, duplicated ${r.duplicated}, refused ${r.refused}`);
  process.exit(1);
}
