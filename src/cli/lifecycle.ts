// `clawgate reload | stop | restart` and `clawgate channels start|stop|restart <name> [--account id]`: calls to the
// running gateway's admin API (the console makes the same calls).
import type { Command } from "commander";
import { adminCall, fail } from "./context.ts";

interface ReloadAnswer {
  channels: { channel: string; account: string; change: string }[];
  restartNeeded: string[];
}

export function registerLifecycle(program: Command) {
  program
    .command("reload")
    .description(
      "re-read the configuration and apply it without a restart (channels start and stop as needed)",
    )
    .action(async (_opts, cmd: Command) => {
      const r = (await adminCall(cmd, "POST", "/admin/api/reload", {})) as unknown as ReloadAnswer;
      if (r.channels.length === 0) console.log("No channel changed.");
      for (const c of r.channels) console.log(`${c.channel}/${c.account}: ${c.change}`);
      if (r.restartNeeded.length) {
        console.log(
          `Changed but read only at start: ${r.restartNeeded.join(", ")}. Run \`clawgate restart\` to apply them.`,
        );
      }
    });
  for (const what of ["stop", "restart"] as const) {
    program
      .command(what)
      .description(
        what === "stop"
          ? "stop the running gateway after it drains in-flight work"
          : "drain and start the running gateway again with a freshly read configuration",
      )
      .action(async (_opts, cmd: Command) => {
        await adminCall(cmd, "POST", `/admin/api/${what}`, {});
        console.log(what === "stop" ? "The gateway is stopping." : "The gateway is restarting.");
      });
  }

  const channels =
    program.commands.find((c) => c.name() === "channels") ??
    program.command("channels").description("chat channel accounts");
  for (const action of ["start", "stop", "restart"] as const) {
    channels
      .command(`${action} [name]`)
      .description(`${action} one channel account in the running gateway (others are not touched)`)
      .option("--channel <name>", "the channel (the seed's spelling; same as the argument)")
      .option("--account <id>", "account id", "default")
      .action(async (arg: string | undefined, opts: { account: string; channel?: string }, cmd: Command) => {
        const name = arg ?? opts.channel;
        if (!name) fail(`name the channel: clawgate channels ${action} telegram (or --channel telegram)`);
        const path = `/admin/api/channels/${encodeURIComponent(name)}/${encodeURIComponent(opts.account)}/${action}`;
        const r = (await adminCall(cmd, "POST", path, {})) as { state?: string };
        console.log(`${name}/${opts.account}: ${r.state ?? action}`);
      });
  }
}
