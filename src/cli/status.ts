// `clawgate status`: asks the running gateway.
import type { Command } from "commander";
import { adminCall } from "./context.ts";

export function registerStatus(program: Command) {
  program
    .command("status")
    .description("show the running gateway's status")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const status = (await adminCall(cmd, "GET", "/admin/api/status")) as {
        version: string;
        uptimeSec: number;
        store: string;
        url: string;
        inbox: Record<string, number>;
        outbox: Record<string, number>;
        channels: {
          channel: string;
          account: string;
          status: string;
          state?: string;
          agentUrl?: string;
          lastError?: { message: string };
        }[];
      };
      if (opts.json) return console.log(JSON.stringify(status, null, 2));
      console.log(
        `clawgate ${status.version} at ${status.url}, up ${status.uptimeSec} s, store ${status.store}`,
      );
      console.log(`inbox:  ${fmt(status.inbox)}`);
      console.log(`outbox: ${fmt(status.outbox)}`);
      for (const c of status.channels) {
        console.log(
          `channel ${c.channel}/${c.account}: ${c.state === "stopped" ? "stopped" : c.status}${c.agentUrl ? `, agent ${c.agentUrl}` : ""}${c.lastError ? ` (last error: ${c.lastError.message})` : ""}`,
        );
      }
    });
}

const fmt = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${v} ${k}`)
    .join(", ");
