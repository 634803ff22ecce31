// `clawgate pair`: create a setup code (--qr prints it as a QR code in the terminal), and answer the approval
// queue: pending, approve <id|code|latest>, reject <id|code>, cleanup. Talks to the running gateway's admin API.
import type { Command } from "commander";
import { adminCall } from "./context.ts";

interface PendingItem {
  id: string;
  kind: "device" | "dm";
  name?: string;
  platform?: string;
  channel?: string;
  senderId?: string;
  senderName?: string;
  expiresAtMs: number;
}

export function registerPair(program: Command) {
  const pair = program.command("pair").description("pair a device or answer pairing requests");
  pair
    .command("create", { isDefault: true })
    .description("create a single-use setup code for a device (the default)")
    .option("--qr", "also print the code as a QR code")
    .option("--json", "print JSON")
    .action(async (opts: { qr?: boolean; json?: boolean }, cmd: Command) => {
      const r = (await adminCall(cmd, "POST", "/admin/api/pair", { qr: opts.qr === true })) as {
        code: string;
        url: string;
        expiresAtMs: number;
        qr?: string;
      };
      if (opts.json) return console.log(JSON.stringify(r, null, 2));
      const minutes = Math.round((r.expiresAtMs - Date.now()) / 60_000);
      console.log(`Setup code for ${r.url} (single use, valid ${minutes} min):\n\n${r.code}\n`);
      if (r.qr) console.log(r.qr);
      console.log(
        "The device presents it to /bridge/handshake and waits; approve it with `clawgate pair approve <id>`.",
      );
    });
  pair
    .command("pending")
    .description("list device requests and DM pairing codes waiting for an admin")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { items } = (await adminCall(cmd, "GET", "/admin/api/pair/pending")) as {
        items: PendingItem[];
      };
      if (opts.json) return console.log(JSON.stringify(items, null, 2));
      if (items.length === 0) return console.log("Nothing is waiting for approval.");
      for (const i of items) {
        const left = Math.max(0, Math.round((i.expiresAtMs - Date.now()) / 60_000));
        console.log(
          i.kind === "device"
            ? `${i.id}  device  "${i.name}"${i.platform ? ` (${i.platform})` : ""}  expires in ${left} min`
            : `${i.id}  dm      ${i.channel} ${i.senderName ?? ""} (${i.senderId})  expires in ${left} min`,
        );
      }
    });
  pair
    .command("approve <id>")
    .description("approve a device request (req_…), a DM pairing code, or `latest`")
    .option(
      "--scopes <list>",
      "device scopes, comma-separated (job:submit,job:status,delivery:send,config:read,chat)",
    )
    .action(async (id: string, opts: { scopes?: string }, cmd: Command) => {
      const r = (await adminCall(cmd, "POST", "/admin/api/pair/approve", {
        id,
        scopes: opts.scopes,
      })) as {
        message: string;
      };
      console.log(r.message);
    });
  pair
    .command("reject <id>")
    .description("reject a device request or a DM pairing code")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await adminCall(cmd, "POST", "/admin/api/pair/reject", { id });
      console.log(`Rejected ${id}.`);
    });
  pair
    .command("cleanup")
    .description("clear the queue: pending requests, unused setup codes and DM codes")
    .action(async (_opts: unknown, cmd: Command) => {
      const r = (await adminCall(cmd, "POST", "/admin/api/pair/cleanup")) as {
        requests: number;
        bootstrapTokens: number;
        dmCodes: number;
      };
      console.log(
        `Cleared ${r.requests} device request(s), ${r.bootstrapTokens} unused setup code(s) and ${r.dmCodes} DM code(s).`,
      );
    });
}
