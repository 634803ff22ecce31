// A real clawgate gateway for the backlog benchmark, run as a child of run.ts: the LINE channel, the real HTTP
// server, ingress, SQLite store and — unlike bench/ingest — the real inbox worker, claiming as it does in
// production. Before it starts, the store gets the situation of issue 14: every conversation the load writes
// to has an event in flight (leased far into the future, as if the agent were hung on another replica) and,
// when asked, `backlog` more events queued behind those heads. The agent URL is a closed port (the agent is
// down), so nothing is ever answered. Reports its URL over IPC and exits on "stop".
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { lineLanes } from "./lanes.ts";

const [dir, configJson, backlogArg] = process.argv.slice(2);
if (!dir || !configJson) throw new Error("usage: gateway-server.ts <dir> <config json> <backlog>");
const backlog = Number(backlogArg ?? "0");

writeFileSync(join(dir, "clawgate.json"), configJson);
const { config, env } = loadConfig({ cwd: dir, env: {}, channelEnv: channelEnvMappers() });
const log = createLogger(config.logLevel, { pretty: false });
const store = new SqliteStore(join(dir, "clawgate.db"));
await store.migrate();

// Heads first, leased to a worker elsewhere for a day; then the backlog behind them, through the store's own
// enqueue (so the lanes are exactly what production would have).
const lanes = lineLanes();
const stamp = Date.now();
const payload = JSON.stringify({ seeded: true, text: "x".repeat(600) });
const enqueue = (id: string, sessionKey: string) =>
  store.enqueueInbound({ id, sessionKey, payload, receivedAt: stamp });
await Promise.all(lanes.map((lane, i) => enqueue(`seed:head:${i}`, lane)));
const heads = await store.claimInbound({ owner: "hung-replica", leaseMs: 86_400_000, limit: lanes.length });
if (heads.length !== lanes.length) throw new Error(`seeded ${heads.length} heads, wanted ${lanes.length}`);
for (let done = 0; done < backlog; ) {
  const batch = Math.min(5000, backlog - done);
  await Promise.all(
    Array.from({ length: batch }, (_, k) => enqueue(`seed:${done + k}`, lanes[(done + k) % lanes.length]!)),
  );
  done += batch;
}

const gateway = await Gateway.create({ config, env, log, store });
await gateway.start();
process.send?.({ url: gateway.url });

process.on("message", (m) => {
  if (m === "cpu") {
    const u = process.cpuUsage();
    process.send?.({ cpuMicros: u.user + u.system });
    return;
  }
  if (m !== "stop") return;
  gateway.stop().then(() => process.exit(0));
});
