// `clawgate devices list|revoke|rotate`: paired bridge devices, through the running gateway's admin API.
import type { Command } from "commander";
import { adminCall, fail } from "./context.ts";

interface DeviceView {
  id: string;
  name: string;
  platform?: string;
  scopes: string[];
  status: string;
  createdAt: number;
  tokens: { id: string; status: string; expiresAt: number }[];
}

export function registerDevices(program: Command) {
  const devices = program.command("devices").description("list, revoke and rotate paired bridge devices");
  devices
    .command("list")
    .description("list paired devices and their tokens")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = (await adminCall(cmd, "GET", "/admin/api/devices")) as { devices: DeviceView[] };
      if (opts.json) return console.log(JSON.stringify(r.devices, null, 2));
      if (r.devices.length === 0) return console.log("No paired devices. Pair one with `clawgate pair`.");
      for (const d of r.devices) {
        const live = d.tokens.filter((t) => t.status === "active");
        const until = live.length ? new Date(Math.max(...live.map((t) => t.expiresAt))).toISOString() : "-";
        console.log(
          `${d.id}  ${d.status.padEnd(7)}  "${d.name}"${d.platform ? ` (${d.platform})` : ""}  scopes ${d.scopes.join(",")}  token until ${until}`,
        );
      }
    });
  devices
    .command("revoke <id>")
    .description("revoke a device (every token), or one token with --token")
    .option("--token <tokenId>", "revoke only this token (bt_…)")
    .action(async (id: string, opts: { token?: string }, cmd: Command) => {
      await adminCall(cmd, "POST", `/admin/api/devices/${encodeURIComponent(id)}/revoke`, {
        tokenId: opts.token,
      });
      console.log(
        opts.token ? `Revoked token ${opts.token} of ${id}.` : `Revoked ${id}: its tokens no longer work.`,
      );
    });
  devices
    .command("rotate <id>")
    .description("issue a new token; the previous ones keep working for the overlap window")
    .option("--ttl <seconds>", "lifetime of the new token (60-86400)")
    .option("--overlap <seconds>", "how long the previous tokens keep working (0-3600)")
    .option("--json", "print JSON")
    .action(async (id: string, opts: { ttl?: string; overlap?: string; json?: boolean }, cmd: Command) => {
      const num = (v: string | undefined, name: string) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n)) fail(`--${name} must be a whole number of seconds`);
        return n;
      };
      const r = (await adminCall(cmd, "POST", `/admin/api/devices/${encodeURIComponent(id)}/rotate`, {
        ttlSec: num(opts.ttl, "ttl"),
        overlapSec: num(opts.overlap, "overlap"),
      })) as { tokenId: string; token: string; expiresAt: number };
      if (opts.json) return console.log(JSON.stringify(r, null, 2));
      console.log(
        `New token ${r.tokenId} for ${id}, valid until ${new Date(r.expiresAt).toISOString()}:\n\n${r.token}\n`,
      );
      console.log("Give it to the device over a secure channel; it is not shown again.");
    });
}
