// npm run bench:bursts — is the gateway still responsive while a burst drains? One signed LINE webhook carries
// 5,000 events (as many conversations); while the real gateway process (`clawgate start`, SQLite) drains them
// through an agent that answers at once to the fake LINE API, this measures `/healthz` round trips and the
// acknowledgement of a message on another channel (the web chat's POST, committed before its 202). The baseline
// in the same run is the same two measurements with the gateway idle. Prints p50/p99 for both phases.
//
//   npm run bench:bursts -- [--events 5000] [--probes 200] [--loop-stats] [--cpu-prof]
//
// --loop-stats loads bench/bursts/loop-monitor.ts into the gateway and prints how long its event loop was
// blocked; --cpu-prof writes the gateway's CPU profile to bench-profiles/.
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../../test/fakes/line.ts";
import { FakeAgent } from "../../test/fakes/openai-agent.ts";
import { startChildGateway, tempDir, waitFor } from "../../test/helpers/gateway.ts";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "5000" },
    probes: { type: "string", default: "200" },
    "loop-stats": { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
  },
});
const EVENTS = Number(args.events);
const PROBES = Number(args.probes);
const SECRET = "bench-bursts-secret";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!;
};

const loopStatsFile = args["loop-stats"] ? join(tempDir("clawgate-bench-bursts-"), "loop.json") : undefined;
const nodeOptions = [
  ...(loopStatsFile ? [`--import=${join(import.meta.dirname, "loop-monitor.ts")}`] : []),
  ...(args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${join(process.cwd(), "bench-profiles")}`] : []),
];

const line = await new FakeLine().start();
const agent = await new FakeAgent({ noStream: true }).start();
const gw = await startChildGateway({
  config: {
    agentUrl: agent.url,
    agent: { retries: 0, historyTurns: 0 },
    channels: {
      line: {
        channelSecret: SECRET,
        channelAccessToken: line.token,
        apiBase: line.url,
        dmPolicy: "open",
        bodyLimitBytes: 8 * 1024 * 1024,
      },
    },
  },
  env: {
    ...(nodeOptions.length ? { NODE_OPTIONS: nodeOptions.join(" ") } : {}),
    ...(loopStatsFile ? { LOOP_STATS_FILE: loopStatsFile } : {}),
  },
});

async function time(fn: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const res = await fn();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`probe answered ${res.status}`);
  return performance.now() - started;
}

let seq = 0;
async function probe(health: number[], acks: number[]) {
  health.push(await time(() => fetch(`${gw.url}/healthz`)));
  acks.push(
    await time(() =>
      fetch(`${gw.url}/api/threads/bursts/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: `probe ${++seq}`, clientMessageId: `probe-${seq}-${Date.now()}` }),
      }),
    ),
  );
}

// A second after it is ready, the gateway gives back its start-up memory with one full collection
// (src/runtime/startup-memory.ts), a pause of 50–150 ms; the probes measure the gateway after that.
await new Promise((r) => setTimeout(r, 1500));

// Idle baseline.
const idle = { health: [] as number[], acks: [] as number[] };
for (let i = 0; i < PROBES; i++) await probe(idle.health, idle.acks);
await waitFor(async () => (await fetch(`${gw.url}/healthz`)).ok, 5000);

// The burst: one webhook, EVENTS events from as many users.
const events = Array.from({ length: EVENTS }, (_, i) =>
  lineTextEvent({
    text: `burst ${i}`,
    userId: lineId("U", `burst-${i}`),
    replyToken: line.issueReplyToken(600_000),
  }),
);
const body = JSON.stringify({ destination: "Ubench", events });
const webhookStarted = performance.now();
const burstFrom = Date.now();
const ack = await fetch(`${gw.url}/line/webhook`, {
  method: "POST",
  headers: { "content-type": "application/json", "x-line-signature": lineWebhookSignature(SECRET, body) },
  body,
});
if (!ack.ok) throw new Error(`the burst webhook answered ${ack.status}`);
const burstAckMs = performance.now() - webhookStarted;

const busy = { health: [] as number[], acks: [] as number[] };
const answered = () =>
  line.calls.filter((c) => c.body.messages.some((m) => String(m.text).startsWith("echo: burst"))).length;
while (answered() < EVENTS && busy.health.length < PROBES * 5) await probe(busy.health, busy.acks);
const probesRanOut = answered() < EVENTS;
await waitFor(() => answered() >= EVENTS, 600_000, "the burst to drain");
const drainMs = performance.now() - webhookStarted;
const burstTo = Date.now();

await gw.kill("SIGTERM");
await line.stop();
await agent.stop();

const ms = (x: number) => `${x.toFixed(1)} ms`;
console.log(
  `${EVENTS} events in one webhook, acknowledged in ${ms(burstAckMs)}, drained in ${(drainMs / 1000).toFixed(1)} s (${Math.round(EVENTS / (drainMs / 1000))}/s); load ${loadavg()[0]!.toFixed(2)}`,
);
console.log(
  `probes while draining: ${busy.health.length}${probesRanOut ? " (the probes ended before the burst drained)" : ""}`,
);
console.log("| | idle p50 | idle p99 | draining p50 | draining p99 |");
console.log("| --- | ---: | ---: | ---: | ---: |");
console.log(
  `| /healthz | ${ms(pct(idle.health, 50))} | ${ms(pct(idle.health, 99))} | ${ms(pct(busy.health, 50))} | ${ms(pct(busy.health, 99))} |`,
);
console.log(
  `| web chat message acknowledged | ${ms(pct(idle.acks, 50))} | ${ms(pct(idle.acks, 99))} | ${ms(pct(busy.acks, 50))} | ${ms(pct(busy.acks, 99))} |`,
);
if (loopStatsFile) {
  const stats = JSON.parse(readFileSync(loopStatsFile, "utf8")) as {
    p50: number;
    p99: number;
    max: number;
    blocks: { at: number; ms: number; cpuMs: number }[];
    cpuAt: { at: number; cpuMs: number }[];
  };
  const cpuBy = (t: number) => stats.cpuAt.findLast((c) => c.at <= t)?.cpuMs ?? 0;
  const burstCpu = cpuBy(burstTo) - cpuBy(burstFrom);
  console.log(
    `gateway main-thread CPU while the burst drained: ${Math.round(burstCpu)} ms, ${(burstCpu / EVENTS).toFixed(2)} ms per event`,
  );
  const during = stats.blocks.filter((b) => b.at >= burstFrom && b.at <= burstTo);
  console.log(
    `gateway event loop delay (whole run): p50 ${ms(stats.p50)}, p99 ${ms(stats.p99)}, max ${ms(stats.max)}`,
  );
  for (const key of ["ms", "cpuMs"] as const) {
    const xs = during.map((b) => b[key]).sort((a, b) => b - a);
    const total = xs.reduce((s, b) => s + b, 0);
    console.log(
      `while the burst drained, loop blocks over 10 ms${key === "cpuMs" ? " (main-thread CPU time in them)" : " (wall time)"}: ` +
        `${xs.length}, ${Math.round(total)} ms in all, ${xs.filter((b) => b > 40).length} over 40 ms, ` +
        `${xs.filter((b) => b > 25).length} over 25 ms; longest: ${xs
          .slice(0, 10)
          .map((b) => b.toFixed(0))
          .join(", ")} ms`,
    );
  }
}
