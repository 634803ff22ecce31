// What happens to one inbox item: trust → command or conversation → reply. Returns what to commit; the
// caller commits it atomically with marking the item done, so a crash anywhere means a clean retry.
import type { Logger } from "pino";
import type { OutboundMessage } from "../channels/types.ts";
import { lexCommand } from "../core/command-lexer.ts";
import { addressOf, type InboundEvent, sessionKeyOf } from "../core/event.ts";
import { type CommandPolicyConfig, evaluateCommand } from "../core/policy.ts";
import { CommandRateLimiter } from "../core/rate-limit.ts";
import type { NewMessage } from "../store/types.ts";
import { type ChatTurn, TargetError } from "../targets/types.ts";
import type { CommandContext } from "./commands.ts";
import type { Metrics } from "./metrics.ts";
import type { GatewayServices, TrustGate } from "./services.ts";
import { StreamPublisher } from "./stream-publisher.ts";

export interface PipelineOutcome {
  messages: NewMessage[];
  replies: OutboundMessage[];
  /** The streamed message the first reply should edit in place. */
  editMessageId?: string;
}

export class Pipeline {
  readonly #services: GatewayServices;
  readonly #trust: TrustGate;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #limiter: CommandRateLimiter;

  constructor(services: GatewayServices, trust: TrustGate, metrics: Metrics) {
    this.#services = services;
    this.#trust = trust;
    this.#metrics = metrics;
    this.#log = services.log;
    this.#limiter = new CommandRateLimiter(services.config.policy.rateLimits);
  }

  policyConfig(): CommandPolicyConfig {
    const p = this.#services.config.policy;
    return { adminUsers: p.adminUsers, overrides: p.overrides, allowFrom: p.allowFrom };
  }

  async handle(incoming: InboundEvent, signal: AbortSignal): Promise<PipelineOutcome> {
    const s = this.#services;
    // A button clawgate did not make (a LINE rich menu) that put text in the chat: that text is the message.
    const event =
      incoming.action && incoming.text.trim() && !s.actions.resolve(incoming.action.value)
        ? { ...incoming, action: undefined }
        : incoming;
    const sessionKey = sessionKeyOf(event);
    const adapter = s.adapter(event.channel, event.account);
    const none: PipelineOutcome = { messages: [], replies: [] };
    if (!adapter) {
      this.#log.warn({ event: event.id }, "no adapter for event's channel/account; dropping");
      return none;
    }
    if (event.sender.isBot) return none;
    const trusted = adapter.isTrusted(event) || ((await this.#trust.isAllowlisted?.(event)) ?? false);
    const admin = s.isAdmin(event.channel, event.sender.id, event.sender.selfAsserted);
    const author = event.sender.name ?? event.sender.id;

    if (event.action) {
      const handler = s.actions.resolve(event.action.value);
      const result = handler
        ? await handler({ event, sessionKey, value: event.action.value, trusted, admin, services: s })
        : { toast: "This button is no longer valid." };
      await adapter.answerAction?.(event, result.toast).catch((err: Error) => {
        this.#log.warn({ err: err.message }, "answering a button press failed");
      });
      // Where a press cannot be answered with a toast (LINE, WhatsApp, Kakao, SMS), its note comes as a message,
      // in the same commit as the press is marked done, so a retry never sends it twice.
      const note =
        !adapter.answerAction && result.toast ? { text: result.toast, kind: "notice" as const } : undefined;
      const reply = result.reply ?? note;
      return { messages: [], replies: reply ? [reply] : [] };
    }

    if (!event.addressed) return none;

    const lexed = event.command
      ? { kind: "command" as const, command: event.command }
      : lexCommand(event.text);
    if (lexed.kind === "error") {
      return this.#reply(sessionKey, event, "command", { text: lexed.message, kind: "error" });
    }
    if (lexed.kind === "command") {
      const command = lexed.command;
      const spec = s.commands.resolve(command.name);
      if (!spec) {
        return this.#reply(sessionKey, event, "command", {
          text: `Unknown command ${command.name}. Send /help to see what you can use.`,
          kind: "error",
        });
      }
      const limited = this.#limiter.check(
        `${event.channel}:${event.conversation.id}`,
        event.sender.id,
        Date.now(),
      );
      if (!limited.ok)
        return this.#reply(sessionKey, event, "command", { text: limited.message, kind: "error" });
      const canonical = s.commands.canonical(command.name);
      const decision = evaluateCommand(
        canonical,
        {
          channel: event.channel,
          senderId: event.sender.id,
          trusted,
          selfAsserted: event.sender.selfAsserted,
        },
        this.policyConfig(),
      );
      if (decision.kind === "deny") {
        this.#log.info({ event: event.id, command: canonical, reason: decision.reason }, "command denied");
        return this.#reply(sessionKey, event, "command", { text: decision.message, kind: "error" });
      }
      const ctx: CommandContext = {
        event,
        sessionKey,
        command,
        trusted,
        admin,
        commandClass: decision.commandClass,
        needsApproval: decision.kind === "approval",
        services: s,
        signal,
      };
      let result: OutboundMessage | OutboundMessage[] | undefined;
      try {
        result = await spec.handler(ctx);
      } catch (err) {
        if (err instanceof TargetError) result = { text: err.message, kind: "error" };
        else throw err;
      }
      const replies = result === undefined ? [] : Array.isArray(result) ? result : [result];
      return {
        messages: [
          { sessionKey, role: "command", content: event.text, eventId: event.id, author },
          ...replies.map((r) => ({
            sessionKey,
            role: "system" as const,
            content: r.text,
            eventId: event.id,
          })),
        ],
        replies,
      };
    }

    // Free text: a conversation turn for the session's target.
    if (!trusted) {
      const gate = await this.#trust.check(event, adapter, s);
      if (!gate.allow) {
        this.#log.info({ event: event.id, sender: event.sender.id }, "untrusted sender refused");
        return { messages: [], replies: gate.reply ? [gate.reply] : [] };
      }
    }
    return this.#converse(event, sessionKey, signal);
  }

  #reply(sessionKey: string, event: InboundEvent, role: "command", reply: OutboundMessage): PipelineOutcome {
    const author = event.sender.name ?? event.sender.id;
    return {
      messages: [
        { sessionKey, role, content: event.text, eventId: event.id, author },
        {
          sessionKey,
          role: reply.kind === "error" ? "error" : "system",
          content: reply.text,
          eventId: event.id,
        },
      ],
      replies: [reply],
    };
  }

  async #converse(event: InboundEvent, sessionKey: string, signal: AbortSignal): Promise<PipelineOutcome> {
    const s = this.#services;
    const adapter = s.adapter(event.channel, event.account)!;
    const session = await s.store.touchSession(sessionKey, event.text.slice(0, 60));
    const turns = s.config.agent.historyTurns;
    const earlier =
      turns > 0
        ? await s.store.listMessages(sessionKey, { generation: session.generation, last: turns * 4 })
        : [];
    const history: ChatTurn[] = earlier
      .filter((m) => (m.role === "user" || m.role === "assistant") && m.eventId !== event.id)
      .slice(-turns * 2)
      .map((m) => ({ role: m.role as "user" | "assistant", content: m.content }));
    const userMessage: NewMessage = {
      sessionKey,
      role: "user",
      content: event.text,
      eventId: event.id,
      author: event.sender.name ?? event.sender.id,
    };
    const target = s.targetFor(event);
    const publisher = new StreamPublisher(adapter, addressOf(event), event.id, s.store, this.#log);
    await publisher.resume();
    const started = performance.now();
    try {
      const result = await target.run({
        event,
        sessionKey,
        history,
        signal,
        onDelta: (text) => publisher.update(text),
      });
      const editMessageId = await publisher.finish();
      this.#metrics.targetLatency.observe(
        { target: target.name, outcome: "ok" },
        (performance.now() - started) / 1000,
      );
      if (result.kind === "deferred") {
        return {
          messages: [userMessage],
          replies: result.notice ? [{ text: result.notice, kind: "notice" }] : [],
        };
      }
      const text = result.text.trim() ? result.text : "(the agent returned an empty reply)";
      return {
        messages: [userMessage, { sessionKey, role: "assistant", content: text, eventId: event.id }],
        replies: [{ text, kind: "reply" }],
        editMessageId,
      };
    } catch (err) {
      const editMessageId = await publisher.finish();
      this.#metrics.targetLatency.observe(
        { target: target.name, outcome: "error" },
        (performance.now() - started) / 1000,
      );
      if (signal.aborted) {
        return { messages: [userMessage], replies: [] };
      }
      if (!(err instanceof TargetError)) throw err;
      this.#log.warn({ event: event.id, err: err.message }, "target failed");
      return {
        messages: [userMessage, { sessionKey, role: "error", content: err.message, eventId: event.id }],
        replies: [{ text: `⚠️ ${err.message}`, kind: "error" }],
        editMessageId,
      };
    }
  }
}
