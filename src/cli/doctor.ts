// `clawgate doctor`: checks the configuration, host, store, agent and every channel's credentials against their
// platforms, without a running gateway, and says what to do about each problem. Exit 1 when something blocks.
import type { Command } from "commander";
import type { DoctorCheck } from "../channels/types.ts";
import { ConfigError } from "../config/errors.ts";
import { PluginLoadError } from "../plugins/loader.ts";
import { readConfigWithPlugins } from "./context.ts";

export function registerDoctor(program: Command) {
  program
    .command("doctor")
    .description("check the config, host, store, agent and each channel's platform credentials, with fixes")
    .option("--json", "print the checks as JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      // Loaded when asked for: the checks pull in pg and every channel's client, which `start` must not load.
      const { runDoctor } = await import("../doctor/run.ts");
      const { nodeVersionCheck } = await import("../doctor/system.ts");
      const { exitCode, formatReport } = await import("../doctor/report.ts");
      let checks: DoctorCheck[];
      try {
        const loaded = await readConfigWithPlugins(cmd);
        checks = await runDoctor(
          loaded,
          loaded.plugins.map((p) => p.name),
        );
      } catch (err) {
        if (!(err instanceof ConfigError || err instanceof PluginLoadError)) throw err;
        checks = [
          {
            id: "config",
            title: "Configuration",
            status: "fail",
            detail: err.message,
            fix: "correct the file (clawgate config check shows the same), then run doctor again",
          },
          nodeVersionCheck(),
        ];
      }
      process.stdout.write(opts.json ? `${JSON.stringify({ checks }, null, 2)}\n` : formatReport(checks));
      process.exitCode = exitCode(checks);
    });
}
