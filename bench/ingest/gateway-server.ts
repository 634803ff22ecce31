// A real clawgate gateway for the benchmark, run as a child of run.ts: the configured channels, the real HTTP
// server, router, ingress and SQLite store (WAL, synchronous=FULL, group commit). Only the inbox worker's
// claims are switched off (IngestOnlyStore), so the measurement is ingest alone — verify, normalize, commit,
// acknowledge — and no agent is ever called. Reports its URL over IPC and exits on "stop".
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { InboxItem } from "../../src/store/types.ts";

/** The real store with the inbox worker's claims disabled: events stay committed and pending. */
class IngestOnlyStore extends SqliteStore {
  async claimInbound(): Promise<InboxItem[]> {
    return [];
  }
}

const [dir, configJson] = process.argv.slice(2);
if (!dir || !configJson) throw new Error("usage: gateway-server.ts <dir> <config json>");

writeFileSync(join(dir, "clawgate.json"), configJson);
const { config, env } = loadConfig({ cwd: dir, env: {}, channelEnv: channelEnvMappers() });
// The real logger at the configured level; stdout is /dev/null in the benchmark.
const log = createLogger(config.logLevel, { pretty: false });
const store = new IngestOnlyStore(join(dir, "clawgate.db"));
await store.migrate();
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
