// /help, /start, /status, /new, /whoami: the commands every channel has.
import { agentUrlFor } from "../config/load.ts";
import { classify } from "../core/policy.ts";
import { transcriptIn } from "./attachments.ts";
import type { CommandRegistry } from "./commands.ts";
import type { Pipeline } from "./pipeline.ts";

export function registerBuiltinCommands(commands: CommandRegistry, pipeline: Pipeline) {
  commands.register({
    name: "/help",
    aliases: ["/start"],
    description: "Show the commands you can use",
    defaultClass: "public",
    handler: ({ services, admin }) => {
      const policy = pipeline.policyConfig();
      const lines = services.commands
        .list()
        .filter((c) => admin || classify(c.name, policy) !== "admin")
        .map((c) => `${c.usage ?? c.name} — ${c.description}`);
      return {
        text: `Commands:\n${lines.join("\n")}\n\nAnything else you write goes to the assistant.`,
      };
    },
  });

  commands.register({
    name: "/new",
    aliases: ["/reset"],
    description: "Start a fresh conversation (earlier messages are no longer sent to the assistant)",
    defaultClass: "public",
    handler: async ({ services, sessionKey }) => {
      await services.store.resetSession(sessionKey);
      return { text: "Started a new conversation. The assistant no longer sees the earlier messages." };
    },
  });

  commands.register({
    name: "/transcript",
    description: "Show what your last voice message was heard as",
    defaultClass: "public",
    handler: async ({ services, sessionKey }) => {
      // The transcript is kept with the user's message (its parts), so it can be shown whenever asked.
      const recent = await services.store.listMessages(sessionKey, { last: 50 });
      for (const m of recent.reverse()) {
        if (m.role !== "user") continue;
        for (const p of m.parts ?? []) {
          const heard = p.type === "text" ? transcriptIn(p.text) : undefined;
          if (heard !== undefined) return { text: `Your last voice message was heard as:\n${heard}` };
        }
      }
      return { text: "There is no transcribed voice message in this conversation." };
    },
  });

  commands.register({
    name: "/whoami",
    description: "Show your id on this channel and what you may do",
    defaultClass: "public",
    handler: ({ event, trusted, admin, sessionKey }) => ({
      text: [
        `Channel: ${event.channel} (account ${event.account})`,
        `Your id: ${event.sender.id}${event.sender.name ? ` (${event.sender.name})` : ""}`,
        `Conversation: ${event.conversation.id} (${event.conversation.kind})`,
        `Session: ${sessionKey}`,
        `Allowlisted: ${trusted ? "yes" : "no"}`,
        `Admin: ${admin ? "yes" : "no"}`,
      ].join("\n"),
    }),
  });

  commands.register({
    name: "/status",
    description: "Show the gateway's status",
    defaultClass: "public",
    handler: async ({ services, event, admin }) => {
      const inbox = await services.store.inboxStats();
      const outbox = await services.store.outboxStats();
      const uptime = Math.round((Date.now() - services.startedAt) / 1000);
      const lines = [
        `clawgate ${services.version} — up ${formatDuration(uptime)}`,
        `Store: ${services.store.kind}`,
        `Inbox: ${inbox.pending} pending, ${inbox.leased} in progress, ${inbox.dead} dead-lettered`,
        `Outbox: ${outbox.pending} pending, ${outbox.leased} sending, ${outbox.dead} dead-lettered`,
      ];
      if (admin)
        lines.push(
          `Agent for ${event.channel}: ${agentUrlFor(services.config, event.channel, event.account)}`,
        );
      for (const a of services.adapters()) {
        const h = a.health();
        lines.push(
          `Channel ${a.channel}/${a.account}: ${h.status}${h.lastError ? ` (last error: ${h.lastError.message})` : ""}`,
        );
      }
      for (const provider of services.statusProviders) {
        const extra = await provider().catch((err: Error) => `status provider failed: ${err.message}`);
        if (extra) lines.push(extra);
      }
      return { text: lines.join("\n") };
    },
  });
}

export function formatDuration(totalSeconds: number): string {
  const d = Math.floor(totalSeconds / 86400);
  const h = Math.floor((totalSeconds % 86400) / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  if (m) return `${m}m ${s}s`;
  return `${s}s`;
}
