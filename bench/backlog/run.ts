// npm run bench:backlog — does ingest cost depend on the backlog? Signed LINE webhooks into conversations whose
// current event is in flight (the agent hung), through two real gateways with their inbox workers running
// (gateway-server.ts): one with nothing queued behind those events, one with `--backlog` (100,000) queued
// events. Same run, interleaved slices, median ratio of acknowledgements per second; issue 14 asks >= 0.9.
// Then the claim itself (claim.ts), on SQLite and PostgreSQL, with and without the backlog.
//
//   npm run bench:backlog -- [--backlog 100000] [--duration 1] [--warmup 2] [--connections 16] [--rounds 20]
//                             [--claims 300] [--stores sqlite,postgres] [--no-ingest] [--cpu-prof]
// Results and how to read them: docs/benchmarks.md.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { cpuOf, stopServer, waitForUrl } from "../ingest/child.ts";
import { type LoadResult, runLoad } from "../ingest/load.ts";
import { LINE_CHANNEL_SECRET, lineWebhook } from "../ingest/payload.ts";
import { type ClaimCost, measureClaims } from "./claim.ts";
import { LINE_USERS } from "./lanes.ts";

const { values: args } = parseArgs({
  options: {
    backlog: { type: "string", default: "100000" },
    duration: { type: "string", default: "1" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "16" },
    rounds: { type: "string", default: "20" },
    claims: { type: "string", default: "300" },
    stores: { type: "string", default: "sqlite,postgres" },
    "no-ingest": { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
  },
});
const backlog = Number(args.backlog);
const connections = Number(args.connections);
const profileDir = join(tmpdir(), "clawgate-bench-profiles");

interface Server {
  name: string;
  backlog: number;
  child: ChildProcess;
  dir: string;
  url: string;
  runId: string;
  acked: number;
  cpuMicros: number;
  slices: LoadResult[];
}

const config = JSON.stringify({
  server: { host: "127.0.0.1", port: 0 },
  logLevel: "info",
  // The agent is down: nothing listens on port 9.
  agentUrl: "http://127.0.0.1:9/v1/chat/completions",
  channels: {
    line: {
      channelSecret: LINE_CHANNEL_SECRET,
      channelAccessToken: "bench-line-token",
      apiBase: "http://127.0.0.1:9",
    },
  },
});

async function start(name: string, queued: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), `clawgate-backlog-${name}-`));
  const child = fork(resolve(import.meta.dirname, "gateway-server.ts"), [dir, config, String(queued)], {
    execArgv: args["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const url = await waitForUrl(child, 300);
  const runId = `${name.slice(0, 1)}${Date.now().toString(36)}`;
  return { name, backlog: queued, child, dir, url, runId, acked: 0, cpuMicros: 0, slices: [] };
}

const load = (s: Server, durationSec: number) =>
  runLoad(
    {
      url: s.url,
      method: "POST",
      request: (n) => ({ path: "/line/webhook", ...lineWebhook(n, s.runId) }),
    },
    { connections, durationSec },
  );

/** Events the load stored: every inbox row but the seeded heads and backlog. */
function committed(s: Server): number {
  const db = new DatabaseSync(join(s.dir, "clawgate.db"), { readOnly: true });
  try {
    const row = db.prepare(`SELECT COUNT(*) AS n FROM inbox WHERE id NOT LIKE 'seed:%'`).get() as {
      n: number;
    };
    return Number(row.n);
  } finally {
    db.close();
  }
}

const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
};
const fmt = (n: number | string, w: number) => String(n).padStart(w);
let failed = false;

console.log(
  `node ${process.version}, ${availableParallelism()} CPUs; 1-minute load average ${loadavg()[0]!.toFixed(1)} at the start`,
);
if (!args["no-ingest"]) {
  const started = Date.now();
  const servers: Server[] = [];
  try {
    console.log(
      `seeding ${LINE_USERS} conversations with an event in flight, ${backlog} queued behind them …`,
    );
    servers.push(...(await Promise.all([start("empty", 0), start("backlog", backlog)])));
    for (const s of servers) s.acked += (await load(s, Number(args.warmup))).ok;
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const s of round % 2 ? [...servers].reverse() : servers) {
        const before = await cpuOf(s.child);
        const r = await load(s, Number(args.duration));
        s.cpuMicros += (await cpuOf(s.child)) - before;
        s.acked += r.ok;
        s.slices.push(r);
        if (r.non2xx || r.errors || r.timeouts) {
          failed = true;
          console.log(
            `${s.name} round ${round + 1}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
          );
        }
      }
    }
    for (const s of servers) await stopServer(s.child);
    const [empty, full] = servers as [Server, Server];
    const ratios = full.slices.map((r, i) => r.reqPerSec / empty.slices[i]!.reqPerSec);
    console.log(
      `\ningest: ${connections} connections, ${args.rounds} x ${args.duration} s interleaved, ${((Date.now() - started) / 1000).toFixed(0)} s total; load average ${loadavg()[0]!.toFixed(1)} at the end`,
    );
    console.log("gateway               acks/s  p50 ms  p99 ms  CPU µs/ack    acked  committed");
    for (const s of servers) {
      const ok = s.slices.reduce((a, r) => a + r.ok, 0);
      const secs = s.slices.reduce((a, r) => a + r.durationSec, 0);
      const got = committed(s);
      if (got < s.acked) failed = true;
      console.log(
        `${`${s.name} (${s.backlog} queued)`.padEnd(20)} ${fmt(Math.round(ok / secs), 7)} ${fmt(median(s.slices.map((r) => r.p50)), 7)} ${fmt(median(s.slices.map((r) => r.p99)), 7)} ${fmt(Math.round(s.cpuMicros / ok), 11)} ${fmt(s.acked, 8)} ${fmt(got, 10)}${got < s.acked ? "!" : ""}`,
      );
    }
    const cpu = servers.map((s) => s.cpuMicros / s.slices.reduce((a, r) => a + r.ok, 0));
    console.log(
      `CPU per acknowledgement, backlog / empty: ${(cpu[1]! / cpu[0]!).toFixed(2)} (steadier than throughput on a busy machine)`,
    );
    const ratio = median(ratios);
    const rate = (s: Server) =>
      s.slices.reduce((a, r) => a + r.ok, 0) / s.slices.reduce((a, r) => a + r.durationSec, 0);
    const overall = rate(full) / rate(empty);
    console.log(
      `backlog / empty acks/s: over the whole run ${overall.toFixed(2)}; per pair of slices, median ${ratio.toFixed(2)} (range ${Math.min(...ratios).toFixed(2)} – ${Math.max(...ratios).toFixed(2)}); ${Math.min(overall, ratio) >= 0.9 ? "meets" : "MISSES"} >= 0.9`,
    );
  } finally {
    for (const s of servers) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
}

if (Number(args.claims) > 0) {
  console.log(`\nclaims: ${args.claims} per case, ${LINE_USERS} lanes with an event in flight`);
  console.log("store     queued   blocked µs/claim  one-ready µs/claim");
  for (const kind of args.stores.split(",") as ("sqlite" | "postgres")[]) {
    const [a, b] = (await measureClaims(kind, [0, backlog], Number(args.claims), LINE_USERS)) as [
      ClaimCost,
      ClaimCost,
    ];
    for (const r of [a, b])
      console.log(
        `${kind.padEnd(8)} ${fmt(r.queued, 7)} ${fmt(r.blockedMicros.toFixed(0), 17)} ${fmt(r.readyMicros.toFixed(0), 19)}`,
      );
    console.log(
      `${kind}: claim cost with the backlog / without: blocked ${(b.blockedMicros / a.blockedMicros).toFixed(2)}, one ready ${(b.readyMicros / a.readyMicros).toFixed(2)}`,
    );
  }
}
if (args["cpu-prof"]) console.log(`CPU profiles of the server processes: ${profileDir}`);
if (failed) {
  console.log("FAILED: some requests were refused, errored, or acknowledged without being committed");
  process.exitCode = 1;
}
