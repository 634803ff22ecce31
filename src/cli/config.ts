// `clawgate config check` and `clawgate config schema`.
import type { Command } from "commander";
import { appConfigSchema } from "../channels/registry.ts";
import { agentUrlFor, databaseUrl } from "../config/load.ts";
import { maskConfig } from "../config/mask.ts";
import { configJsonSchema } from "../config/write-json-schema.ts";
import { loadWithPlugins } from "./context.ts";

export function registerConfig(program: Command) {
  const config = program.command("config").description("inspect the configuration");
  config
    .command("check")
    .description(
      "validate the configuration as `clawgate start` does (channel settings included) and print the effective settings, secrets masked",
    )
    .option("--json", "print JSON only")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      // The schema assembled from the channel modules (plugins' included), as start reads the file: it refuses
      // what start refuses.
      const loaded = await loadWithPlugins(cmd);
      const c = loaded.config;
      const effective = {
        source: loaded.source ?? "(no config file: defaults and environment)",
        listen: `http://${c.server.host}:${c.server.port}`,
        database: databaseUrl(c),
        agentUrl: agentUrlFor(c, "webchat"),
        channels: Object.fromEntries(
          Object.keys(c.channels).map((name) => [name, { agentUrl: agentUrlFor(c, name) }]),
        ),
        config: c,
      };
      const masked = maskConfig(effective);
      if (opts.json) console.log(JSON.stringify(masked, null, 2));
      else console.log(`Configuration is valid.\n${JSON.stringify(masked, null, 2)}`);
    });
  config
    .command("schema")
    .description("print the JSON Schema of clawgate.json (for editors)")
    .action(() => {
      console.log(JSON.stringify(configJsonSchema(appConfigSchema()), null, 2));
    });
}
