// `/pair` in chat (admin class by default): /pair, /pair qr, /pair chat (a QR of the link that pairs a browser
// for the web chat), /pair pending, /pair approve <id|code|latest>,
// /pair reject <id|code>, /pair cleanup. Buttons on the "device asks to pair" notice come back as
// `pair:approve:<id>` / `pair:reject:<id>`.
import QRCode from "qrcode";
import type { OutboundMessage } from "../channels/types.ts";
import type { ActionRegistry } from "../gateway/actions.ts";
import type { CommandContext, CommandRegistry } from "../gateway/commands.ts";
import { parseScopes } from "./scopes.ts";
import { describeApproval, PairingError, type PairingService } from "./service.ts";

const USAGE =
  "Usage: /pair (setup code) · /pair qr · /pair chat (link for a browser) · /pair pending · /pair approve <id|code|latest> [scopes=job:submit,delivery:send] · /pair reject <id|code> · /pair cleanup";

export function registerPairCommand(
  commands: CommandRegistry,
  actions: ActionRegistry,
  pairing: PairingService,
) {
  commands.register({
    name: "/pair",
    description: "Pair a device or approve a pairing request (admins)",
    usage: "/pair [qr|chat|pending|approve <id>|reject <id>|cleanup]",
    defaultClass: "admin",
    handler: async (ctx) => {
      try {
        return await pairCommand(ctx, pairing);
      } catch (err) {
        if (err instanceof PairingError) return { text: err.message, kind: "error" };
        throw err;
      }
    },
  });

  actions.register("pair", async ({ value, admin, event }) => {
    const [, verb, id] = value.split(":");
    if (!admin) return { toast: "Only admins can answer pairing requests." };
    const by = `${event.channel}:${event.sender.id}`;
    try {
      if (verb === "approve") {
        const a = await pairing.approve(id ?? "", by);
        return { toast: "Approved", reply: { text: describeApproval(a) } };
      }
      if (verb === "reject") {
        await pairing.reject(id ?? "");
        return { toast: "Rejected", reply: { text: `Rejected pairing request ${id}.` } };
      }
    } catch (err) {
      if (err instanceof PairingError) return { toast: err.message };
      throw err;
    }
    return { toast: "This button is no longer valid." };
  });
}

async function pairCommand(ctx: CommandContext, pairing: PairingService): Promise<OutboundMessage> {
  const { command, event } = ctx;
  const sub = (command.positional[0] ?? "").toLowerCase();
  const by = `${event.channel}:${event.sender.id}`;
  switch (sub) {
    case "":
    case "qr":
    case "chat": {
      if (event.conversation.kind !== "dm")
        return {
          text: "Send /pair in a direct message with the bot: a setup code is a credential and must not be posted in a group.",
          kind: "error",
        };
      const setup = await pairing.createSetup(by, {
        channel: event.channel,
        account: event.account,
        conversationId: event.conversation.id,
        thread: event.conversation.thread,
      });
      const minutes = Math.round((setup.expiresAtMs - Date.now()) / 60_000);
      const text =
        sub === "chat"
          ? `Open this link on the phone or laptop that should chat (single use, valid ${minutes} min), then approve it here:\n${setup.pairUrl}`
          : `Setup code for ${setup.url} (single use, valid ${minutes} min):\n${setup.code}\n\nEnter or scan it in the device; it then waits here for /pair approve. To chat from a browser instead, open ${setup.pairUrl} on it.`;
      if (sub === "") return { text };
      // A phone's camera opens a link; a companion app reads the bare code.
      const payload = sub === "chat" ? setup.pairUrl : setup.code;
      const adapter = ctx.services.adapter(event.channel, event.account);
      if (adapter?.capabilities.media) {
        const png = await QRCode.toBuffer(payload, {
          type: "png",
          errorCorrectionLevel: "M",
          margin: 2,
          scale: 6,
        });
        return {
          text,
          media: [
            {
              dataBase64: png.toString("base64"),
              mime: "image/png",
              filename: "pairing-qr.png",
              caption: "Scan to pair",
            },
          ],
        };
      }
      const ascii = await QRCode.toString(payload, { type: "utf8", errorCorrectionLevel: "L", margin: 2 });
      return { text: `${text}\n\n${ascii}` };
    }
    case "pending": {
      const items = await pairing.pending();
      if (items.length === 0) return { text: "Nothing is waiting for approval." };
      const lines = items.map((i) =>
        i.kind === "device"
          ? `${i.id} — device "${i.name}"${i.platform ? ` (${i.platform})` : ""}, asks ${i.requestedScopes.join(", ") || "default scopes"}`
          : `${i.id} — ${i.channel} user ${i.senderName ?? i.senderId} (${i.senderId}) wants to talk`,
      );
      return {
        text: `Waiting for approval:\n${lines.join("\n")}\n\nAnswer with /pair approve <id> or /pair reject <id>.`,
      };
    }
    case "approve": {
      const id = command.positional[1];
      if (!id) return { text: USAGE, kind: "error" };
      const { scopes, unknown } = parseScopes(command.kv.scopes);
      if (unknown.length) return { text: `Unknown scope(s): ${unknown.join(", ")}.`, kind: "error" };
      return { text: describeApproval(await pairing.approve(id, by, scopes)) };
    }
    case "reject": {
      const id = command.positional[1];
      if (!id) return { text: USAGE, kind: "error" };
      const r = await pairing.reject(id);
      return {
        text: `Rejected ${r.kind === "dm" ? `pairing code ${r.request.code}` : `device request ${r.request.id}`}.`,
      };
    }
    case "cleanup": {
      const c = await pairing.cleanup();
      return {
        text: `Cleared ${c.requests} device request(s), ${c.bootstrapTokens} unused setup code(s) and ${c.dmCodes} DM pairing code(s).`,
      };
    }
    default:
      return { text: USAGE, kind: "error" };
  }
}
