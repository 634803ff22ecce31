// npm run bench:ingest — accepted-and-committed messages per second through clawgate's ingress versus the
// machine's practical limit (baseline-server.ts: node:http + HMAC + SQLite group commit), in the same run.
// Each server runs in its own child process; autocannon drives it from this one. Binds 127.0.0.1 only.
//
//   npm run bench:ingest -- [--duration 10] [--warmup 2] [--connections 32] [--rounds 1]
//                            [--targets baseline,webchat,line] [--cpu-prof]
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";
import { channelModules } from "../../src/channels/registry.ts";
import { lineGatewayTarget } from "./line-target.ts";
import { type LoadResult, type LoadTarget, runLoad } from "./load.ts";
import { lineSignature, lineWebhookBody, webchatBody, webchatThread } from "./payload.ts";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    connections: { type: "string", default: "32" },
    rounds: { type: "string", default: "1" },
    targets: { type: "string", default: "baseline,webchat,line" },
    "cpu-prof": { type: "boolean", default: false },
  },
});
const durationSec = Number(args.duration);
const warmupSec = Number(args.warmup);
const connections = Number(args.connections);
const rounds = Number(args.rounds);
const wanted = new Set(args.targets.split(","));
const profileDir = join(tmpdir(), "clawgate-bench-profiles");

interface Bench {
  name: string;
  /** Starts the server; returns its URL and a function counting committed events after it stopped. */
  start(dir: string): { child: ChildProcess; committed: () => number };
  target(url: string, runId: string): LoadTarget;
}

const countRows = (file: string, table: string) => () => {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
  } finally {
    db.close();
  }
};

function spawnServer(script: string, argv: string[], profile: boolean): ChildProcess {
  return fork(resolve(import.meta.dirname, script), argv, {
    execArgv: profile ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
}

function gatewayConfig(extra: Record<string, unknown>) {
  return JSON.stringify({
    server: { host: "127.0.0.1", port: 0 },
    logLevel: "info",
    // Never called: the benchmark gateway does not claim inbox items (see gateway-server.ts).
    agentUrl: "http://127.0.0.1:9/v1/chat/completions",
    ...extra,
  });
}

const benches: Bench[] = [
  {
    name: "baseline",
    start: (dir) => {
      const file = join(dir, "baseline.db");
      return {
        child: spawnServer("baseline-server.ts", [file], false),
        committed: countRows(file, "events"),
      };
    },
    target: (url, runId) => ({
      url,
      method: "POST",
      request: (n) => {
        const body = lineWebhookBody(n, runId);
        return { path: "/webhook", body, headers: { "x-line-signature": lineSignature(body) } };
      },
    }),
  },
  {
    name: "webchat",
    start: (dir) => ({
      child: spawnServer("gateway-server.ts", [dir, gatewayConfig({})], args["cpu-prof"]),
      committed: countRows(join(dir, "clawgate.db"), "inbox"),
    }),
    target: (url, runId) => ({
      url,
      method: "POST",
      request: (n) => ({ path: `/api/threads/${webchatThread(n)}/messages`, body: webchatBody(n, runId) }),
    }),
  },
  {
    name: "line",
    start: (dir) => ({
      child: spawnServer(
        "gateway-server.ts",
        [dir, gatewayConfig(lineGatewayTarget.config)],
        args["cpu-prof"],
      ),
      committed: countRows(join(dir, "clawgate.db"), "inbox"),
    }),
    target: (url, runId) => ({
      url,
      method: "POST",
      request: (n) => {
        const body = lineWebhookBody(n, runId);
        return { path: lineGatewayTarget.path, body, headers: { "x-line-signature": lineSignature(body) } };
      },
    }),
  },
];

function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("server did not start within 20 s")), 20_000);
    child.once("message", (m: { url?: string }) => {
      clearTimeout(timer);
      if (m.url) ok(m.url);
      else fail(new Error(`unexpected message from server: ${JSON.stringify(m)}`));
    });
    child.once("exit", (code) => fail(new Error(`server exited with ${code} before it was ready`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      ok();
    });
    child.send("stop");
  });
}

interface Row {
  round: number;
  name: string;
  result: LoadResult;
  acked: number;
  committed: number;
}

async function measure(bench: Bench, round: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), `clawgate-bench-${bench.name}-`));
  const { child, committed } = bench.start(dir);
  try {
    const url = await waitForUrl(child);
    const runId = `${round}${bench.name.slice(0, 1)}${Date.now().toString(36)}`;
    const target = bench.target(url, runId);
    const warm = await runLoad(target, { connections, durationSec: warmupSec });
    const result = await runLoad(target, { connections, durationSec });
    await stopServer(child);
    return { round, name: bench.name, result, acked: warm.ok + result.ok, committed: committed() };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

const selected = benches.filter((b) => wanted.has(b.name) && (b.name !== "line" || "line" in channelModules));
for (const name of wanted)
  if (name === "line" && !("line" in channelModules))
    console.log("(skipping line: the LINE channel is not registered in src/channels/registry.ts yet)");

const rows: Row[] = [];
const started = Date.now();
for (let round = 1; round <= rounds; round++) {
  for (const bench of selected) {
    const row = await measure(bench, round);
    rows.push(row);
    const r = row.result;
    console.log(
      `round ${round} ${bench.name.padEnd(8)} ${r.reqPerSec.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms`,
    );
  }
}

const fmt = (n: number, w: number) => String(n).padStart(w);
console.log(
  `\n${connections} connections, ${warmupSec} s warm-up + ${durationSec} s measured per target, ${rounds} round(s), ${((Date.now() - started) / 1000).toFixed(0)} s total`,
);
console.log("round  target     req/s   p50 ms  p99 ms   non-2xx  errors  acked    committed  vs baseline");
let failed = false;
for (const row of rows) {
  const r = row.result;
  const base = rows.find((x) => x.round === row.round && x.name === "baseline");
  const ratio =
    base && row.name !== "baseline" ? `${((r.reqPerSec / base.result.reqPerSec) * 100).toFixed(0)} %` : "";
  // Every acknowledged request must be in the database (some more may be: committed but cut off at the end).
  const lost = row.committed < row.acked;
  if (lost || r.non2xx > 0 || r.errors > 0) failed = true;
  console.log(
    `${fmt(row.round, 5)}  ${row.name.padEnd(8)} ${fmt(Math.round(r.reqPerSec), 7)} ${fmt(r.p50, 8)} ${fmt(r.p99, 7)} ${fmt(r.non2xx, 9)} ${fmt(r.errors + r.timeouts, 7)}  ${fmt(row.acked, 8)} ${fmt(row.committed, 10)}${lost ? "!" : " "} ${ratio}`,
  );
}

for (const name of selected.map((b) => b.name).filter((n) => n !== "baseline")) {
  const mine = rows.filter((r) => r.name === name);
  const ratios = mine.map((m) => {
    const base = rows.find((x) => x.round === m.round && x.name === "baseline");
    return base ? m.result.reqPerSec / base.result.reqPerSec : Number.NaN;
  });
  const ratio = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  const p99 = Math.max(...mine.map((m) => m.result.p99));
  if (Number.isNaN(ratio)) {
    console.log(`${name}: worst p99 ${p99} ms (no baseline in this run, so no ratio)`);
    continue;
  }
  const verdict = ratio >= 0.6 && p99 < 20 ? "meets" : "MISSES";
  console.log(
    `${name}: ${(ratio * 100).toFixed(0)} % of baseline, worst p99 ${p99} ms — ${verdict} the target (>= 60 %, p99 < 20 ms)`,
  );
}
if (args["cpu-prof"]) console.log(`CPU profiles of the gateway processes: ${profileDir}`);
if (failed) {
  console.log("FAILED: some requests were refused, errored, or acknowledged without being committed");
  process.exitCode = 1;
}
