// Wires one gateway process: store, channels, targets, workers, HTTP. The flow is
// ingress → inbox (commit) → ack → inbox worker → pipeline → outbox (same commit) → outbox worker → channel.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ChannelAdapter, ChannelContext, IngestResult, OutboundMessage } from "../channels/types.ts";
import type { Env } from "../config/env.ts";
import { agentUrlFor, databaseUrl, modelFor } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { addressOf, type DeliveryAddress, type InboundEvent, sessionKeyOf } from "../core/event.ts";
import { evaluateCommand, isAdmin } from "../core/policy.ts";
import { formatSessionKey } from "../core/session-key.ts";
import type { AdminAuth } from "../http/admin-auth.ts";
import { registerAdminRoutes } from "../http/admin-routes.ts";
import { hostPolicy } from "../http/boundary.ts";
import { registerHealthRoutes } from "../http/health-routes.ts";
import { Router } from "../http/router.ts";
import { HttpServer } from "../http/server.ts";
import { MediaService } from "../media/service.ts";
import { type Periodic, runPeriodically } from "../runtime/periodic.ts";
import { QueueWorker } from "../runtime/queue-worker.ts";
import { openStore } from "../store/open.ts";
import { backoffMs, type InboxItem, type OutboxItem, type Store } from "../store/types.ts";
import { OpenAiTarget } from "../targets/openai/target.ts";
import type { Target } from "../targets/types.ts";
import { VERSION } from "../version.ts";
import { ActionRegistry } from "./actions.ts";
import { registerBuiltinCommands } from "./builtin-commands.ts";
import { createChannelAdapters } from "./channel-setup.ts";
import { CommandRegistry } from "./commands.ts";
import { deliverOutboxItem, planDeliveries } from "./delivery.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { capAnswer, Pipeline } from "./pipeline.ts";
import { ReplyWaiters } from "./reply-waiters.ts";
import type { DeliverOptions, GatewayServices, TrustGate } from "./services.ts";
import { allowlistGate } from "./trust-gate.ts";

export interface GatewayOptions {
  config: Config;
  env: Env;
  log: Logger;
  /** Use this store instead of opening the configured one (tests, benchmarks). */
  store?: Store;
}

/** A module that extends the gateway (ComfyUI, security): registers commands, routes, status lines. */
export interface GatewayExtension {
  name: string;
  setup(gateway: Gateway): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export class Gateway {
  readonly config: Config;
  readonly env: Env;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly router = new Router();
  readonly commands = new CommandRegistry();
  readonly actions = new ActionRegistry();
  readonly waiters = new ReplyWaiters();
  readonly statusProviders: (() => Promise<string | undefined>)[] = [];
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly startedAt = Date.now();
  trustGate: TrustGate = allowlistGate;
  adminAuth!: AdminAuth;
  /** Signed, expiring media links (docs/media.md). */
  media!: MediaService;
  store!: Store;
  services!: GatewayServices;
  #providedStore: Store | undefined;
  readonly #adapters = new Map<string, ChannelAdapter>();
  readonly #targets = new Map<string, Target>();
  readonly #ownListeners: HttpServer[] = [];
  readonly #inflight = new Map<string, AbortController>();
  readonly #extensions: GatewayExtension[] = [];
  #server: HttpServer | undefined;
  #inbox: QueueWorker<InboxItem> | undefined;
  #outbox: QueueWorker<OutboxItem> | undefined;
  #retention: Periodic | undefined;
  #ready = false;
  #stopping = false;

  constructor(options: GatewayOptions) {
    this.config = options.config;
    this.env = options.env;
    this.log = options.log;
    this.metrics = createMetrics();
    this.#providedStore = options.store;
  }

  get ready(): boolean {
    return this.#ready && !this.#stopping;
  }

  get url(): string {
    if (!this.#server) throw new Error("gateway is not started");
    return this.#server.url;
  }

  /** URLs of the channels' own listeners (connector-seed `_BIND`/`_PORT`), in the order they opened. */
  get channelListenerUrls(): string[] {
    return this.#ownListeners.map((l) => l.url);
  }

  /** Extensions add commands, routes and status before the listeners open. */
  use(extension: GatewayExtension) {
    this.#extensions.push(extension);
  }

  adapters(): ChannelAdapter[] {
    return [...this.#adapters.values()];
  }

  adapter(channel: string, account: string): ChannelAdapter | undefined {
    return this.#adapters.get(`${channel}:${account}`);
  }

  /** Starts everything; if any part fails, whatever was already started is stopped again before rethrowing. */
  async start(): Promise<void> {
    try {
      await this.#start();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
  }

  async #start(): Promise<void> {
    this.store = this.#providedStore ?? (await openStore(databaseUrl(this.config)));
    this.services = this.#buildServices();
    this.media = await MediaService.open({
      config: this.config,
      env: this.env,
      store: this.store,
      log: this.log,
    });
    for (const route of this.media.routes()) this.router.add(route.method, route.path, route.handler, route);
    const pipeline = new Pipeline(
      this.services,
      {
        check: (...a) => this.trustGate.check(...a),
        isAllowlisted: async (e) => (await this.trustGate.isAllowlisted?.(e)) ?? false,
      },
      this.metrics,
    );
    registerBuiltinCommands(this.commands, pipeline);
    this.#createChannels();
    registerHealthRoutes(this);
    registerAdminRoutes(this);
    for (const ext of this.#extensions) await ext.setup(this);
    for (const adapter of this.#adapters.values()) this.#mountRoutes(adapter);

    const { concurrency, leaseMs, maxAttempts } = this.config.inbox;
    this.#inbox = new QueueWorker<InboxItem>({
      name: "inbox",
      concurrency,
      leaseMs,
      pollMs: 500,
      log: this.log,
      claim: (limit) => this.store.claimInbound({ owner: this.owner, leaseMs, limit }),
      extend: (item) => this.store.extendInboundLease(item.id, this.owner, leaseMs),
      process: (item, signal) => this.#processInbound(item, signal, pipeline, maxAttempts),
    });
    this.#outbox = new QueueWorker<OutboxItem>({
      name: "outbox",
      concurrency: 16,
      leaseMs: this.config.outbox.leaseMs,
      pollMs: 500,
      log: this.log,
      claim: (limit) =>
        this.store.claimOutbound({
          owner: this.owner,
          leaseMs: this.config.outbox.leaseMs,
          limit,
          channels: [...new Set(this.adapters().map((a) => a.channel))],
        }),
      extend: (item) => this.store.extendOutboundLease(item.id, this.owner, this.config.outbox.leaseMs),
      process: (item) =>
        deliverOutboxItem(
          item,
          this.owner,
          this.adapter(item.channel, item.account),
          this.store,
          this.metrics,
          this.log,
        ),
    });

    const s = this.config.server;
    this.#server = new HttpServer(this.router, {
      host: s.host,
      port: s.port,
      bodyLimitBytes: s.bodyLimitBytes,
      requestTimeoutMs: s.requestTimeoutMs,
      log: this.log,
      hosts: this.#hostPolicy(s.host),
    });
    await this.#server.listen();
    await this.#openOwnListeners();
    this.#inbox.start();
    this.#outbox.start();
    this.#retention = runPeriodically(this.config.retention.intervalMs, () => this.#prune());
    for (const adapter of this.#adapters.values()) {
      await adapter.start?.().catch((err: Error) => {
        this.log.error(
          { channel: adapter.channel, account: adapter.account, err: err.message },
          "channel failed to start",
        );
        throw err;
      });
    }
    this.#ready = true;
    this.log.info(
      {
        url: this.url,
        store: this.store.kind,
        channels: this.adapters().map((a) => `${a.channel}/${a.account}`),
      },
      "clawgate is ready",
    );
  }

  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.log.info("shutting down: draining in-flight work");
    // Each step runs even when an earlier one fails, so the store is always closed and the process exits 0.
    const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        this.log.error({ err: (err as Error).message, what }, "shutdown step failed");
      }
    };
    for (const adapter of this.#adapters.values())
      await step(`channel ${adapter.channel}`, () => adapter.stop?.());
    await step("listener", () => this.#server?.close());
    for (const l of this.#ownListeners) await step("channel listener", () => l.close());
    await step("inbox", () => this.#inbox?.stop(15_000));
    await step("outbox", () => this.#outbox?.stop(10_000));
    await step("retention", () => this.#retention?.stop());
    for (const ext of this.#extensions) await step(`extension ${ext.name}`, () => ext.stop?.());
    await step("store", () => this.store?.close());
    this.log.info("stopped");
  }

  /** Commits an inbound event; called by every channel's ingress. */
  async ingest(event: InboundEvent): Promise<IngestResult> {
    const window = this.config.retention.finishedDays * 86_400_000;
    if (event.sentAt !== undefined && event.sentAt < Date.now() - window) {
      this.log.info(
        { eventId: event.id, sentAt: new Date(event.sentAt).toISOString() },
        `ignored an event older than the dedup window (retention.finishedDays = ${this.config.retention.finishedDays})`,
      );
      this.metrics.inbound.inc({ channel: event.channel, result: "stale" });
      return "stale";
    }
    const sessionKey = sessionKeyOf(event);
    const result = await this.store.enqueueInbound({
      id: event.id,
      sessionKey,
      payload: JSON.stringify(event),
      receivedAt: event.receivedAt,
    });
    this.metrics.inbound.inc({
      channel: event.channel,
      result: result === "inserted" ? "accepted" : "duplicate",
    });
    if (result === "inserted") {
      this.#inbox?.notify();
      // /new cancels the reply in progress in this session rather than waiting behind it in the lane.
      const name = event.command?.name ?? (/^\/(new|reset)\b/i.test(event.text.trim()) ? "/new" : undefined);
      if ((name === "/new" || name === "/reset") && this.#mayReset(event))
        this.#inflight.get(sessionKey)?.abort(new Error("session reset"));
    }
    return result === "inserted" ? "accepted" : "duplicate";
  }

  /**
   * Whether the pipeline would let this sender run /new, so that a /new it will refuse (another bot, a message
   * not addressed to us, a command policy that denies it) cannot cut off someone's reply. The store-backed
   * allowlist is not consulted here: a sender trusted only through it waits for its turn in the lane instead.
   */
  #mayReset(event: InboundEvent): boolean {
    const adapter = this.adapter(event.channel, event.account);
    if (!adapter || event.sender.isBot || !event.addressed) return false;
    const { adminUsers, overrides, allowFrom } = this.config.policy;
    const decision = evaluateCommand(
      this.commands.canonical("/new"),
      {
        channel: event.channel,
        senderId: event.sender.id,
        trusted: adapter.isTrusted(event),
        selfAsserted: event.sender.selfAsserted,
      },
      { adminUsers, overrides, allowFrom },
    );
    return decision.kind === "allow";
  }

  /** Queues a message for any conversation (bridge deliver, job results, approvals). */
  async deliver(
    address: DeliveryAddress,
    message: OutboundMessage,
    idempotencyKey: string,
    opts: DeliverOptions = {},
  ) {
    const adapter = this.adapter(address.channel, address.account);
    if (!adapter) throw new Error(`no channel ${address.channel}/${address.account} is configured`);
    // Answers that arrive later (async agent callbacks, job results) are capped like streamed ones.
    const cap = this.config.limits.answerChars;
    if (message.text.length > cap) message = { ...message, text: capAnswer(message.text, cap) };
    const sessionKey = formatSessionKey({
      channel: address.channel,
      account: address.account,
      conversationId: address.conversationId,
      thread: address.thread,
    });
    const items = planDeliveries(adapter, address, sessionKey, idempotencyKey, [message]);
    let first: { id: number; inserted: boolean } | undefined;
    for (const item of items) {
      const r = await this.store.enqueueOutbound(item);
      first ??= r;
    }
    // Keep the conversation's history complete (the web chat shows it); "system" is not sent as agent context.
    if (first?.inserted && message.text && opts.record !== false) {
      await this.store.appendMessages([
        {
          sessionKey,
          role: opts.historyRole ?? (message.kind === "error" ? "error" : "system"),
          content: message.text,
        },
      ]);
    }
    this.#outbox?.notify();
    return first!;
  }

  /** Wakes both queue workers now, e.g. after an operator put dead letters back (instead of the next poll). */
  wakeQueues() {
    this.#inbox?.notify();
    this.#outbox?.notify();
  }

  targetFor(event: InboundEvent): Target {
    const url = agentUrlFor(this.config, event.channel, event.account);
    const model = modelFor(this.config, event.channel);
    const key = `${url}|${model ?? ""}`;
    let target = this.#targets.get(key);
    if (!target) {
      const a = this.config.agent;
      target = new OpenAiTarget({
        url,
        model,
        apiKey: this.config.apiKey,
        systemPrompt: a.systemPrompt,
        stream: a.stream,
        temperature: a.temperature,
        maxTokens: a.maxTokens,
        connectTimeoutMs: a.connectTimeoutMs,
        firstTokenTimeoutMs: a.firstTokenTimeoutMs,
        totalTimeoutMs: a.totalTimeoutMs,
        retries: a.retries,
      });
      this.#targets.set(key, target);
    }
    return target;
  }

  /** Replaces how conversation targets are chosen (async agent mode, ComfyUI routing). */
  setTargetResolver(resolve: (event: InboundEvent, fallback: Target) => Target) {
    const base = this.targetFor.bind(this);
    this.targetFor = (event) => resolve(event, base(event));
  }

  channelContext(): ChannelContext {
    return {
      log: this.log,
      store: this.store,
      config: this.config,
      env: this.env,
      owner: this.owner,
      commandList: () => this.commands.list().map((c) => ({ name: c.name, description: c.description })),
      isActionValue: (value) => this.actions.resolve(value) !== undefined,
      publishMedia: (item, address) => this.media.publish(item, address),
      deliver: (address, message, key) => this.deliver(address, message, key, { record: false }),
      ingest: (event) => this.ingest(event),
      awaitReply: (eventId, timeoutMs) => this.waiters.wait(eventId, timeoutMs),
    };
  }

  #buildServices(): GatewayServices {
    return {
      config: this.config,
      env: this.env,
      log: this.log,
      store: this.store,
      commands: this.commands,
      actions: this.actions,
      startedAt: this.startedAt,
      version: VERSION,
      statusProviders: this.statusProviders,
      adapter: (c, a) => this.adapter(c, a),
      adapters: () => this.adapters(),
      targetFor: (e) => this.targetFor(e),
      isAdmin: (channel, senderId, selfAsserted) =>
        isAdmin(
          { channel, senderId, trusted: true, selfAsserted },
          {
            adminUsers: this.config.policy.adminUsers,
            overrides: this.config.policy.overrides,
            allowFrom: this.config.policy.allowFrom,
          },
        ),
      deliver: (address, message, key, opts) => this.deliver(address, message, key, opts),
      record: async (sessionKey, role, content) => {
        await this.store.appendMessages([{ sessionKey, role, content }]);
      },
    };
  }

  #createChannels() {
    for (const adapter of createChannelAdapters(this.config, this.channelContext()))
      this.#adapters.set(`${adapter.channel}:${adapter.account}`, adapter);
  }

  #mountRoutes(adapter: ChannelAdapter) {
    for (const route of adapter.routes?.() ?? []) {
      // A channel's routes are platform webhooks unless they say otherwise (the web chat's do), whatever
      // path the operator gave them.
      this.router.add(route.method, route.path, route.handler, { ...route, defaultKind: "webhook" });
    }
  }

  /** The names a listener bound to `bindHost` answers to (Host and Origin rules, src/http/boundary.ts). */
  #hostPolicy(bindHost: string) {
    const c = this.config;
    return hostPolicy({
      bindHost,
      publicUrls: [c.server.publicBaseUrl, c.security.pairing.publicUrl],
      extra: c.server.allowedHosts,
    });
  }

  // Connector-seed compatibility: a channel configured with its own bind/port also listens there.
  async #openOwnListeners() {
    const byAddress = new Map<string, { host: string; port: number; router: Router }>();
    for (const adapter of this.#adapters.values()) {
      if (!adapter.listen) continue;
      const key = `${adapter.listen.host}:${adapter.listen.port}`;
      let entry = byAddress.get(key);
      if (!entry) {
        entry = { ...adapter.listen, router: new Router() };
        byAddress.set(key, entry);
        // Media links are served here too: the seed's tunnel points at the channel's own port.
        for (const route of this.media.routes())
          entry.router.add(route.method, route.path, route.handler, route);
        entry.router.add(
          "GET",
          "/healthz",
          (_req, res) => {
            res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
          },
          { kind: "health" },
        );
      }
      for (const route of adapter.routes?.() ?? []) {
        entry.router.add(route.method, route.path, route.handler, { ...route, defaultKind: "webhook" });
      }
    }
    for (const { host, port, router } of byAddress.values()) {
      const server = new HttpServer(router, {
        host,
        port,
        bodyLimitBytes: this.config.server.bodyLimitBytes,
        requestTimeoutMs: this.config.server.requestTimeoutMs,
        log: this.log,
        hosts: this.#hostPolicy(host),
      });
      await server.listen();
      this.#ownListeners.push(server);
      this.log.info({ url: server.url }, "channel listener open");
    }
  }

  /** Deletes finished queue items past the retention period and expired kv entries, in batches. */
  async #prune() {
    const finishedBefore = Date.now() - this.config.retention.finishedDays * 86_400_000;
    const limit = 1000;
    try {
      for (let round = 0; round < 100 && !this.#stopping; round++) {
        const n = await this.store.prune({ finishedBefore, limit });
        if (n.inbox + n.outbox + n.kv > 0) this.log.debug({ ...n }, "retention: pruned");
        if (n.inbox < limit && n.outbox < limit && n.kv < limit) return;
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, "retention: pruning failed; will try again later");
    }
  }

  async #processInbound(item: InboxItem, signal: AbortSignal, pipeline: Pipeline, maxAttempts: number) {
    const event = JSON.parse(item.payload) as InboundEvent;
    const controller = new AbortController();
    const onStop = () => controller.abort(signal.reason);
    signal.addEventListener("abort", onStop, { once: true });
    this.#inflight.set(item.sessionKey, controller);
    let inBand = false;
    try {
      const outcome = await pipeline.handle(event, controller.signal);
      const adapter = this.adapter(event.channel, event.account);
      const finalReply = outcome.replies.at(-1);
      inBand = finalReply !== undefined && this.waiters.claim(event.id);
      const outbox =
        adapter && !inBand
          ? planDeliveries(
              adapter,
              addressOf(event),
              item.sessionKey,
              `reply:${event.id}`,
              outcome.replies,
              outcome.editMessageId,
              event.id,
            )
          : [];
      const ok = await this.store.completeInbound(item.id, this.owner, {
        messages: outcome.messages,
        outbox,
      });
      if (inBand) this.waiters.settle(event.id, ok ? mergeReplies(outcome.replies) : undefined);
      if (!ok) this.log.warn({ event: event.id }, "lease lost before completion; another worker has it");
      this.metrics.processed.inc({ channel: event.channel, outcome: "done" });
      if (outbox.length) this.#outbox?.notify();
    } catch (err) {
      // The commit failed after the waiter was claimed: answer the waiting webhook now; the retry uses the outbox.
      if (inBand) this.waiters.settle(event.id, undefined);
      const message = (err as Error).message ?? String(err);
      const dead = item.attempts >= maxAttempts;
      this.log.error({ event: event.id, err, attempt: item.attempts, dead }, "processing an event failed");
      await this.store.failInbound(
        item.id,
        this.owner,
        message,
        dead ? { dead: true } : { retryAt: Date.now() + backoffMs(item.attempts) },
      );
      this.metrics.processed.inc({ channel: event.channel, outcome: dead ? "dead" : "retry" });
    } finally {
      signal.removeEventListener("abort", onStop);
      if (this.#inflight.get(item.sessionKey) === controller) this.#inflight.delete(item.sessionKey);
    }
  }
}

/** In-band answers carry one message: join several replies (a command's multi-part answer) with blank lines. */
function mergeReplies(replies: OutboundMessage[]): OutboundMessage {
  if (replies.length === 1) return replies[0]!;
  const last = replies.at(-1)!;
  return { ...last, text: replies.map((r) => r.text).join("\n\n") };
}
