// /approvals, /approve, /reject and the Approve/Reject buttons ("apr:approve:<id>", "apr:reject:<id>").
// All are admin-only: the command policy classes the commands as admin, and the button handler checks itself
// because button presses do not pass through the command policy.
import type { ActionRegistry } from "../gateway/actions.ts";
import type { CommandRegistry } from "../gateway/commands.ts";
import { type ApprovalService, iso } from "./service.ts";

export function registerApprovalCommands(
  commands: CommandRegistry,
  actions: ActionRegistry,
  approvals: ApprovalService,
) {
  commands.register({
    name: "/approvals",
    description: "List pending approval requests",
    defaultClass: "admin",
    handler: async ({ event, services }) => {
      await approvals.rememberAdmin(event);
      const pending = await approvals.store.list("pending");
      if (!pending.length) return { text: "No pending approvals." };
      const adapter = services.adapter(event.channel, event.account);
      const lines = pending.map(
        (a) =>
          `• ${a.id} — ${a.summary}\n  from ${a.requester.senderName ?? a.requester.senderId} on ${a.requester.channel}, expires ${iso(a.expiresAt)}`,
      );
      return {
        text: `Pending approvals (${pending.length}):\n${lines.join("\n")}\n\n/approve <id> or /reject <id> [reason]`,
        // One request: offer the buttons right here.
        ...(pending.length === 1 && adapter?.capabilities.buttons
          ? { buttons: approvals.buttons(pending[0]!.id) }
          : {}),
      };
    },
  });

  commands.register({
    name: "/approve",
    usage: "/approve <id>",
    description: "Approve a pending request (it runs at once)",
    defaultClass: "admin",
    handler: async ({ event, command }) => {
      await approvals.rememberAdmin(event);
      const id = command.positional[0];
      if (!id)
        return { text: "Usage: /approve <id>. Send /approvals to see the pending ones.", kind: "error" };
      return approvals.decide(id, "approve", by(event));
    },
  });

  commands.register({
    name: "/reject",
    usage: "/reject <id> [reason]",
    description: "Reject a pending request; the requester is told the reason",
    defaultClass: "admin",
    handler: async ({ event, command }) => {
      await approvals.rememberAdmin(event);
      const id = command.positional[0];
      if (!id) return { text: "Usage: /reject <id> [reason]", kind: "error" };
      // The reason is everything after the id, exactly as typed (the connector used to drop it).
      const reason = command.rest
        .slice(command.rest.indexOf(id) + id.length)
        .trim()
        .replace(/^"(.*)"$/s, "$1");
      return approvals.decide(id, "reject", by(event), reason);
    },
  });

  actions.register("apr", async ({ event, value, admin }) => {
    const [, decision, id] = value.split(":");
    if (!admin) return { toast: "Only admins can decide approvals." };
    if ((decision !== "approve" && decision !== "reject") || !id)
      return { toast: "This button is no longer valid." };
    await approvals.rememberAdmin(event);
    const reply = await approvals.decide(id, decision, by(event));
    return {
      toast:
        reply.kind === "error" ? reply.text.slice(0, 200) : decision === "approve" ? "Approved" : "Rejected",
      reply,
    };
  });
}

const by = (event: { channel: string; sender: { id: string; name?: string } }) =>
  `${event.sender.name ?? event.sender.id} (${event.channel}:${event.sender.id})`;
