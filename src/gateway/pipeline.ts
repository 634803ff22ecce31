// What happens to one inbox item: trust → command or conversation → reply. Returns what to commit; the
// caller commits it atomically with marking the item done, so a crash anywhere means a clean retry.
import type { Logger } from "pino";
import type { ChannelAdapter, OutboundMessage } from "../channels/types.ts";
import { lexCommand } from "../core/command-lexer.ts";
import { addressOf, type InboundEvent, sessionKeyOf } from "../core/event.ts";
import type { CommandPolicyConfig } from "../core/policy.ts";
import { CommandRateLimiter } from "../core/rate-limit.ts";
import { cutText } from "../core/text-cut.ts";
import { takeAnswerMedia } from "../media/answer-media.ts";
import { isImage } from "../media/content-type.ts";
import { fetchPolicyFromConfig } from "../security/url-guard.ts";
import type { NewMessage } from "../store/types.ts";
import { type ChatTurn, TargetError } from "../targets/types.ts";
import { InboundMedia, type PreparedInput } from "./attachments.ts";
import { decideCommand } from "./command-rule.ts";
import type { CommandContext } from "./commands.ts";
import { wireTurns } from "./history-parts.ts";
import type { InboundObservers, KvEffect } from "./inbound-observers.ts";
import type { Metrics } from "./metrics.ts";
import { ReplyBudget } from "./reply-budget.ts";
import type { GatewayServices, TrustGate } from "./services.ts";
import { StreamPublisher } from "./stream-publisher.ts";

export interface PipelineOutcome {
  messages: NewMessage[];
  replies: OutboundMessage[];
  /** What extensions remember about the message (InboundObservers), committed with it. */
  kv?: KvEffect[];
  /** The streamed message the first reply should edit in place. */
  editMessageId?: string;
}

export class Pipeline {
  readonly #services: GatewayServices;
  readonly #trust: TrustGate;
  readonly #metrics: Metrics;
  readonly #log: Logger;
  readonly #limiter: CommandRateLimiter;
  readonly #budget: ReplyBudget;
  readonly #media: InboundMedia;
  readonly #observers: InboundObservers;

  constructor(services: GatewayServices, trust: TrustGate, metrics: Metrics, observers: InboundObservers) {
    this.#services = services;
    this.#observers = observers;
    this.#media = new InboundMedia(services.config, services.media.files, services.log);
    this.#trust = trust;
    this.#metrics = metrics;
    this.#log = services.log;
    this.#limiter = new CommandRateLimiter(services.config.policy.rateLimits);
    this.#budget = new ReplyBudget(services.store, services.config.limits.untrusted);
  }

  policyConfig(): CommandPolicyConfig {
    const p = this.#services.config.policy;
    return { adminUsers: p.adminUsers, overrides: p.overrides, allowFrom: p.allowFrom };
  }

  async handle(incoming: InboundEvent, signal: AbortSignal): Promise<PipelineOutcome> {
    const outcome = await this.#handle(incoming, signal);
    const kv = this.#observers.effectsOf(incoming);
    return kv.length ? { ...outcome, kv: [...(outcome.kv ?? []), ...kv] } : outcome;
  }

  async #handle(incoming: InboundEvent, signal: AbortSignal): Promise<PipelineOutcome> {
    const s = this.#services;
    // A button clawgate did not make (a LINE rich menu) that put text in the chat: that text is the message.
    const event =
      incoming.action && incoming.text.trim() && !s.actions.resolve(incoming.action.value)
        ? { ...incoming, action: undefined }
        : incoming;
    const adapter = s.adapter(event.channel, event.account);
    const none: PipelineOutcome = { messages: [], replies: [] };
    if (!adapter) {
      this.#log.warn({ event: event.id }, "no adapter for event's channel/account; dropping");
      return none;
    }
    if (event.sender.isBot) return none;
    // Group chatter not addressed to the bot costs nothing more.
    if (!event.action && !event.addressed) return none;
    const trusted = adapter.isTrusted(event) || ((await this.#trust.isAllowlisted?.(event)) ?? false);
    const admin = s.isAdmin(event.channel, event.sender.id, event.sender.selfAsserted);
    // A sender on no allowlist has a small reply budget (every SMS reply is paid for). Admins are people the
    // operator named, and `dmPolicy: open` means the operator answers everyone: neither is budgeted.
    const budgeted = !trusted && !admin && s.config.channels[event.channel]?.dmPolicy !== "open";
    const budgetKey = `${event.channel}:${event.account}:${event.sender.id}`;
    if (budgeted && !(await this.#budget.available(budgetKey))) {
      this.#log.debug({ event: event.id, sender: event.sender.id }, "untrusted sender over its reply budget");
      return none;
    }
    const outcome = await this.#decide(event, adapter, trusted, admin, signal);
    if (budgeted && outcome.replies.length > 0 && !(await this.#budget.take(budgetKey))) {
      this.#log.info({ event: event.id, sender: event.sender.id }, "untrusted sender over its reply budget");
      return none;
    }
    return outcome;
  }

  async #decide(
    event: InboundEvent,
    adapter: ChannelAdapter,
    trusted: boolean,
    admin: boolean,
    signal: AbortSignal,
  ): Promise<PipelineOutcome> {
    const s = this.#services;
    const sessionKey = sessionKeyOf(event);
    const none: PipelineOutcome = { messages: [], replies: [] };
    const author = event.sender.name ?? event.sender.id;

    if (event.action) {
      const handler = s.actions.resolve(event.action.value);
      const result = handler
        ? await handler({ event, sessionKey, value: event.action.value, trusted, admin, services: s })
        : { toast: "This button is no longer valid." };
      const inPlace = adapter.capabilities.answersPresses ? adapter.answerAction : undefined;
      await inPlace?.call(adapter, event, result.toast).catch((err: Error) => {
        this.#log.warn({ err: err.message }, "answering a button press failed");
      });
      // Where a press cannot be answered with a toast (LINE, WhatsApp, Kakao, SMS), its note comes as a message,
      // in the same commit as the press is marked done, so a retry never sends it twice.
      const note = !inPlace && result.toast ? { text: result.toast, kind: "notice" as const } : undefined;
      const reply = result.reply ?? note;
      return { messages: [], replies: reply ? [reply] : [] };
    }

    if (!event.addressed) return none;

    let lexed = lexCommand(event.text, { botName: adapter.botName });
    // A channel may have parsed the command already (Discord slash commands carry no "/" text).
    if (lexed.kind === "none" && event.command) lexed = { kind: "command", command: event.command };
    if (lexed.kind === "elsewhere") {
      this.#log.debug({ event: event.id, mention: lexed.mention }, "a command for another bot; not ours");
      return none;
    }
    if (lexed.kind === "error" || lexed.kind === "command") {
      // Rate-limit before answering anything, errors and unknown commands included; over the limit the
      // sender is told once per window and otherwise ignored.
      const limited = this.#limiter.check(
        `${event.channel}:${event.conversation.id}`,
        event.sender.id,
        Date.now(),
      );
      if (!limited.ok) {
        if (!limited.notify) {
          this.#log.debug(
            { event: event.id, sender: event.sender.id },
            "command over the rate limit; ignored",
          );
          return none;
        }
        return this.#reply(sessionKey, event, "command", { text: limited.message, kind: "error" });
      }
    }
    if (lexed.kind === "error") {
      return this.#reply(sessionKey, event, "command", { text: lexed.message, kind: "error" });
    }
    if (lexed.kind === "command") {
      const command = event.command ?? lexed.command;
      const spec = s.commands.resolve(command.name);
      if (!spec) {
        return this.#reply(sessionKey, event, "command", {
          text: `Unknown command ${command.name}. Send /help to see what you can use.`,
          kind: "error",
        });
      }
      const canonical = s.commands.canonical(command.name);
      const decision = decideCommand(canonical, event, trusted, s.config.policy);
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
    if (!event.text.trim() && event.attachments.length === 0) return none;
    const maxIn = s.config.limits.inboundTextChars;
    if (event.text.length > maxIn) {
      this.#log.info({ event: event.id, chars: event.text.length }, "message over limits.inboundTextChars");
      return {
        messages: [],
        replies: [
          {
            text: `Your message is ${event.text.length} characters long; the limit here is ${maxIn}. Please send a shorter one (it was not passed on).`,
            kind: "error",
          },
        ],
      };
    }
    const input = event.attachments.length
      ? await this.#media.prepare(event, s.adapter(event.channel, event.account)!, sessionKey, signal)
      : { parts: [], notices: [], fresh: new Map() };
    const notices = input.notices.map((text): OutboundMessage => ({ text, kind: "notice" }));
    // Nothing the agent could take (a video, a file over the limit, and no words): the notes are the answer.
    if (!event.text.trim() && input.parts.length === 0) return { messages: [], replies: notices };
    const outcome = await this.#converse(event, sessionKey, signal, input);
    // After the answer: its first reply edits the streamed message in place.
    return notices.length ? { ...outcome, replies: [...outcome.replies, ...notices] } : outcome;
  }

  /** The answer, with its pictures and files sent as pictures and documents on channels that take media. */
  async #answerReplies(
    text: string,
    adapter: ChannelAdapter,
  ): Promise<{ replies: OutboundMessage[]; historyText: string }> {
    const s = this.#services;
    const asText = { replies: [{ text, kind: "reply" as const }], historyText: text };
    if (!adapter.capabilities.media) return asText;
    const mb = (n: number) => Math.floor(n * 1024 * 1024);
    const taken = await takeAnswerMedia(text, {
      policy: fetchPolicyFromConfig(s.config),
      maxImageBytes: mb(s.config.media.inbound.maxImageMb),
      maxFileBytes: mb(s.config.media.inbound.maxFileMb),
      mediaHosts: s.config.agent.answerMediaHosts,
    });
    if (taken.media.length === 0) return asText;
    // Text first (it edits the streamed message in place), then the media. History keeps a note, not the bytes:
    // a data URL in the history would be sent back to the agent on every later turn.
    return {
      replies: [
        ...(taken.text ? [{ text: taken.text, kind: "reply" as const }] : []),
        { text: "", kind: "reply", media: taken.media },
      ],
      historyText: `${taken.text}\n[${sentNote(taken.media)}]`.trim(),
    };
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

  async #converse(
    event: InboundEvent,
    sessionKey: string,
    signal: AbortSignal,
    { parts, fresh }: Pick<PreparedInput, "parts" | "fresh">,
  ): Promise<PipelineOutcome> {
    const s = this.#services;
    const adapter = s.adapter(event.channel, event.account)!;
    const turns = s.config.agent.historyTurns;
    const { messages: earlier } = await s.store.sessionHistory(sessionKey, {
      title: event.text.slice(0, 60),
      last: turns * 4,
    });
    // The new message goes last, so the picture budget is spent on it first.
    const turnsToWire = [
      ...earlier
        .filter((m) => (m.role === "user" || m.role === "assistant") && m.eventId !== event.id)
        .slice(-turns * 2)
        .map((m) => ({ role: m.role as "user" | "assistant", text: m.content, parts: m.parts })),
      { role: "user" as const, text: event.text, parts },
    ];
    // Whether this model refused pictures matters only when a turn carries one: most turns skip the read.
    const noImages =
      turnsToWire.some((t) => t.parts?.some((p) => p.type === "image")) &&
      (await s.store.kvGet(NO_IMAGES_NS, sessionKey)) !== undefined;
    const wired = await wireTurns(turnsToWire, {
      media: s.media,
      transport: s.config.agent.imageTransport,
      noImages,
      fresh,
    });
    const current = wired.pop();
    const history: ChatTurn[] = wired;
    const content = Array.isArray(current?.content) ? current.content : undefined;
    const userMessage: NewMessage = {
      sessionKey,
      role: "user",
      content: event.text,
      eventId: event.id,
      author: event.sender.name ?? event.sender.id,
      ...(parts.length ? { parts } : {}),
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
        ...(content ? { content } : {}),
        signal,
        onDelta: (text) => publisher.update(text),
      });
      const editMessageId = await publisher.finish();
      const answeredBy = `${target.name} (${Math.round(performance.now() - started)} ms)`;
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
      const text = result.text.trim()
        ? capAnswer(result.text, s.config.limits.answerChars)
        : "(the agent returned an empty reply)";
      const { replies, historyText } = await this.#answerReplies(text, adapter);
      if (result.imagesRefused) {
        // Said once: later turns send notes instead of pictures, so the agent is not asked again.
        await s.store.kvSet(NO_IMAGES_NS, sessionKey, "1", NO_IMAGES_TTL_MS);
        replies.push({ text: IMAGES_REFUSED_NOTE, kind: "notice" });
      }
      return {
        messages: [
          userMessage,
          // Which target answered and how long it took, for the console (src/console/conversations-routes.ts).
          { sessionKey, role: "assistant", content: historyText, eventId: event.id, author: answeredBy },
        ],
        replies,
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

/** Conversations whose model refused pictures: later turns send a note in their place (for a day). */
const NO_IMAGES_NS = "agent-no-images";
const NO_IMAGES_TTL_MS = 24 * 3600_000;
export const IMAGES_REFUSED_NOTE =
  "The agent's model cannot see pictures, so I sent your message without them and will go on with text only in this conversation. (Operator: use a vision model to pass pictures on.)";

/** "2 pictures and 1 file sent": what the history says went out in place of the bytes. */
function sentNote(media: { mime: string; filename: string }[]): string {
  const pictures = media.filter((m) => isImage(m.mime)).length;
  const files = media.filter((m) => !isImage(m.mime)).map((m) => m.filename);
  const parts = [
    ...(pictures ? [`${pictures} picture${pictures > 1 ? "s" : ""}`] : []),
    ...(files.length ? [`${files.length > 1 ? "files" : "file"} ${files.join(", ")}`] : []),
  ];
  return `${parts.join(" and ")} sent`;
}

/** An answer longer than the cap keeps its start and says it was cut (limits.answerChars). */
export function capAnswer(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = `\n\n[The answer was cut here: it was ${text.length} characters long; the limit is ${limit}.]`;
  return cutText(text, limit - note.length).trimEnd() + note;
}
