// The `clawgate` command line.
import { Command } from "commander";
import { VERSION } from "../version.ts";
import { registerChannels } from "./channels.ts";
import { registerConfig } from "./config.ts";
import { registerDevices } from "./devices.ts";
import { registerDoctor } from "./doctor.ts";
import { registerLifecycle } from "./lifecycle.ts";
import { registerPair } from "./pair.ts";
import { registerPlugins } from "./plugins.ts";
import { registerQueues } from "./queues.ts";
import { registerSchedules } from "./schedules.ts";
import { registerSmokeTest } from "./smoke-test.ts";
import { registerStart } from "./start.ts";
import { registerStatus } from "./status.ts";
import { registerTelegramCli } from "./telegram.ts";

export function buildProgram(): Command {
  const program = new Command("clawgate")
    .description("Self-hosted chat-channel gateway for your own AI")
    .version(VERSION, "-v, --version")
    .option(
      "-c, --config <path>",
      "config file (default: ./clawgate.json, or $CLAWGATE_CONFIG / $OCG_CONFIG_PATH)",
    )
    .option("--host <host>", "listen address (default 127.0.0.1)")
    .option("--port <port>", "listen port (default 8787)");
  registerStart(program);
  registerStatus(program);
  registerDoctor(program);
  registerQueues(program);
  registerConfig(program);
  registerPair(program);
  registerDevices(program);
  registerSmokeTest(program);
  registerChannels(program);
  registerLifecycle(program);
  registerSchedules(program);
  registerPlugins(program);
  // After any `channels` command another module registers: it adds `channels telegram …` under it.
  registerTelegramCli(program);
  program
    .command("version")
    .description("print the version")
    .action(() => console.log(VERSION));
  return program;
}

if (import.meta.main) {
  await buildProgram().parseAsync(process.argv);
}
