// `clawgate start`: run the gateway until SIGTERM/SIGINT, then drain and exit.
import type { Command } from "commander";
import { Gateway } from "../gateway/gateway.ts";
import { createLogger } from "../log.ts";
import { loadWithPlugins } from "./context.ts";
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
      const extensions = extensionFactories.map((make) => make());
      let gateway: Gateway | undefined;
      let stopping = false;
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, "signal received");
        const force = setTimeout(() => {
          log.error("shutdown took too long; exiting");
          process.exit(1);
        }, 30_000);
        force.unref();
        await gateway?.stop();
        process.exit(0);
      };
      process.on("SIGTERM", () => void shutdown("SIGTERM"));
      process.on("SIGINT", () => void shutdown("SIGINT"));
      try {
        gateway = await Gateway.create({ config: loaded.config, env: loaded.env, log, extensions });
        await gateway.start();
      } catch (err) {
        log.fatal({ err: (err as Error).message }, "could not start");
        await gateway?.stop().catch(() => {});
        process.exit(1);
      }
      process.stdout.isTTY && console.log(`\nclawgate is running: open ${gateway.url} in your browser.\n`);
    });
}
