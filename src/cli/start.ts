// `clawgate start`: run the gateway until SIGTERM/SIGINT (or `clawgate stop`), then drain and exit. SIGHUP and
// `clawgate reload` re-read the configuration and apply what changed without a restart; `clawgate restart`
// drains and starts the gateway again in the same process with a freshly read configuration.
import type { Command } from "commander";
import { Gateway } from "../gateway/gateway.ts";
import { createLogger } from "../log.ts";
import { limitHeapGrowth } from "../runtime/heap-limits.ts";
import { releaseStartupMemory } from "../runtime/startup-memory.ts";
import { loadWithPlugins, readConfigWithPlugins } from "./context.ts";
import { extensionFactories } from "./extensions.ts";

export function registerStart(program: Command) {
  program
    .command("start")
    .description("start the gateway (embedded SQLite under ./data unless configured otherwise)")
    .action(async (_opts, cmd: Command) => {
      const loaded = await loadWithPlugins(cmd);
      const log = createLogger(loaded.config.logLevel);
      if (loaded.source) log.info({ config: loaded.source }, "configuration loaded");
      for (const p of loaded.plugins)
        log.info({ plugin: p.name, version: p.version, path: p.path }, "plugin loaded");
      let gateway: Gateway | undefined;
      let stopping = false;
      const shutdown = async (reason: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ reason }, "stopping");
        const force = setTimeout(() => {
          log.error("shutdown took too long; exiting");
          process.exit(1);
        }, 30_000);
        force.unref();
        await gateway?.stop();
        process.exit(0);
      };
      const launch = async (config: typeof loaded.config) => {
        const g = await Gateway.create({
          config,
          env: loaded.env,
          log,
          extensions: extensionFactories.map((make) => make()),
          loadConfig: async () => (await readConfigWithPlugins(cmd)).config,
          lifecycle: { stop: () => void shutdown("clawgate stop"), restart: () => void restart() },
        });
        gateway = g;
        await g.start();
        return g;
      };
      let restarting = false;
      const restart = async () => {
        if (stopping || restarting) return;
        restarting = true;
        try {
          // Read first: a config that does not validate leaves the running gateway as it is.
          const next = (await readConfigWithPlugins(cmd)).config;
          log.info("restarting: draining in-flight work");
          await gateway?.stop();
          await launch(next);
        } catch (err) {
          // A config that does not validate: the running gateway (if still up) keeps running as it was.
          log.error({ err: (err as Error).message }, "restart failed");
          if (!gateway?.ready) process.exit(1);
        } finally {
          restarting = false;
        }
      };
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
      process.on("SIGINT", () => void shutdown("SIGINT"));
      process.on("SIGHUP", () => {
        readConfigWithPlugins(cmd)
          .then((l) => gateway?.reload(l.config))
          .catch((err: Error) =>
            log.error({ err: err.message }, "SIGHUP: the configuration was not applied"),
          );
      });
      limitHeapGrowth();
      try {
        gateway = await launch(loaded.config);
      } catch (err) {
        log.fatal({ err: (err as Error).message }, "could not start");
        await gateway?.stop().catch(() => {});
        process.exit(1);
      }
      process.stdout.isTTY && console.log(`\nclawgate is running: open ${gateway.url} in your browser.\n`);
      // Once ready, not before: the collection takes tens of milliseconds the first answer should not wait for.
      setTimeout(releaseStartupMemory, 1000).unref();
    });
}
