// `clawgate plugins list`: which outside plugins the config loads, from where, and what each provides. Loading
// them is the check: a plugin that `start` would refuse makes this command fail with the same message.
import type { Command } from "commander";
import type { LoadedPlugin } from "../plugins/loader.ts";
import { loadWithPlugins } from "./context.ts";

export function describePlugin(p: LoadedPlugin) {
  return {
    name: p.name,
    version: p.version ?? null,
    spec: p.spec,
    path: p.path,
    apiVersion: p.plugin.apiVersion,
    channels: (p.plugin.channels ?? []).map((m) => m.name),
  };
}

export function registerPlugins(program: Command) {
  const plugins = program.command("plugins").description("outside plugins (docs/plugins.md)");
  plugins
    .command("list")
    .description("show the plugins the configuration loads: name, version, path and what each provides")
    .option("--json", "print JSON only")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const loaded = await loadWithPlugins(cmd);
      const rows = loaded.plugins.map(describePlugin);
      if (opts.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) {
        return console.log(
          `No plugins configured${loaded.source ? ` in ${loaded.source}` : ""}. Add "plugins": ["<npm package>" or "./path/to/plugin.ts"] (docs/plugins.md).`,
        );
      }
      for (const r of rows) {
        console.log(`${r.name}${r.version ? ` ${r.version}` : ""}`);
        console.log(`  from:     ${r.spec}${r.spec === r.path ? "" : ` (${r.path})`}`);
        console.log(`  channels: ${r.channels.length ? r.channels.join(", ") : "(none)"}`);
      }
    });
}
