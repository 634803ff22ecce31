// The composition root of one gateway process: store, channels, targets, workers, HTTP, extensions. The flow is
// ingress → inbox (commit) → ack → inbox worker (inbox.ts) → pipeline → outbox (same commit) → outbox worker
// (delivery.ts) → channel. `Gateway.create` builds everything; `start` opens the listeners and starts the work.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ChannelAdapter, ChannelContext, IngestResult, OutboundMessage } from "../channels/types.ts";
import type { Env } from "../config/env.ts";
import { agentUrlFor, databaseUrl } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { registerConsoleApi } from "../console/api.ts";
import { AuditLog } from "../console/audit.ts";
import type { ConsoleEvents } from "../console/events.ts";
import { registerConsoleUiRoutes } from "../console/ui-routes.ts";
import type { DeliveryAddress, InboundEvent } from "../core/event.ts";
import { AdminAuth } from "../http/admin-auth.ts";
import {
  type AdminStatusSource,
  adminRoutes,
  adminStatus,
  registerAdminRoutes,
} from "../http/admin-routes.ts";
import { registerHealthRoutes } from "../http/health-routes.ts";
import { openMainListener } from "../http/listeners.ts";
import { Router } from "../http/router.ts";
import type { HttpServer } from "../http/server.ts";
import { MediaService } from "../media/service.ts";
import type { Periodic } from "../runtime/periodic.ts";
import type { QueueWorker } from "../runtime/queue-worker.ts";
import { redactUrl } from "../security/url-guard.ts";
import { openStore } from "../store/open.ts";
import type { InboxItem, OutboxItem, Store } from "../store/types.ts";
import type { Target } from "../targets/types.ts";
import { VERSION } from "../version.ts";
import { ActionRegistry } from "./actions.ts";
import { registerBuiltinCommands } from "./builtin-commands.ts";
import { type ChannelChange, ChannelSet } from "./channel-set.ts";
import { isResetCommand, mayRunCommand } from "./command-rule.ts";
import { CommandRegistry } from "./commands.ts";
import { channelContextOf, hostOf, servicesOf } from "./contexts.ts";
import { enqueueDelivery } from "./delivery.ts";
import type { ExtensionHost, GatewayExtension, StatusProvider } from "./host.ts";
import { InboundObservers } from "./inbound-observers.ts";
import { commitInbound, InflightSessions } from "./inbox.ts";
import { registerLifecycleRoutes } from "./lifecycle-routes.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { Pipeline } from "./pipeline.ts";
import { ReplyWaiters } from "./reply-waiters.ts";
import { startRetention } from "./retention.ts";
import type { DeliverOptions, GatewayServices } from "./services.ts";
import { TargetResolver } from "./target-resolver.ts";
import { TrustGateSlot } from "./trust-gate.ts";
import { createQueueWorkers } from "./workers.ts";

export type { ExtensionHost, GatewayExtension } from "./host.ts";

export interface GatewayOptions {
  config: Config;
  env: Env;
  log: Logger;
  /** Use this store instead of opening the configured one (tests, benchmarks). */
  store?: Store;
  /** Set up in order before the listeners open; each gets the ExtensionHost, never the gateway. */
  extensions?: GatewayExtension[];
  /**
   * Reads and validates the configuration again (`clawgate reload`, SIGHUP, the console): the same file, env and
   * flags the process started with. Without it, reload answers that it is not available.
   */
  loadConfig?: () => Promise<Config>;
  /** Asks the process to stop, or to stop and start again with a freshly read config (`clawgate stop|restart`). */
  lifecycle?: { stop(): void; restart(): void };
}

export interface ReloadReport {
  channels: ChannelChange[];
  /** Sections that changed but are read only at start: `clawgate restart` applies them. */
  restartNeeded: string[];
}

export class Gateway {
  readonly config: Config;
  readonly env: Env;
  readonly log: Logger;
  readonly metrics: Metrics = createMetrics();
  readonly router = new Router();
  readonly commands = new CommandRegistry();
  readonly actions = new ActionRegistry();
  readonly waiters = new ReplyWaiters();
  readonly owner = `${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly startedAt = Date.now();
  readonly store: Store;
  /** Signed, expiring media links (docs/media.md). */
  readonly media: MediaService;
  readonly services: GatewayServices;
  readonly host: ExtensionHost;
  readonly #statusProviders: StatusProvider[] = [];
  readonly #targets: TargetResolver;
  readonly #trustGate = new TrustGateSlot();
  readonly channels: ChannelSet;
  readonly #inflight = new InflightSessions();
  readonly #extensions: GatewayExtension[] = [];
  readonly #inbox: QueueWorker<InboxItem>;
  readonly #outbox: QueueWorker<OutboxItem>;
  readonly #consoleEvents: ConsoleEvents;
  #server: HttpServer | undefined;
  #retention: Periodic | undefined;
  #ready = false;
  #stopping = false;
  #reloading: Promise<unknown> = Promise.resolve();

  /** Builds a gateway: store, channels, routes, workers and extensions, all ready for `start()`. */
  static async create(options: GatewayOptions): Promise<Gateway> {
    const { config, env, log } = options;
    const store = options.store ?? (await openStore(databaseUrl(config)));
    let gw: Gateway;
    try {
      gw = new Gateway(options, store, await MediaService.open({ config, env, store, log }));
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
    try {
      for (const ext of options.extensions ?? []) {
        gw.#extensions.push(ext);
        await ext.setup(gw.host);
      }
      gw.channels.mountAll();
    } catch (err) {
      await gw.stop().catch(() => {});
      throw err;
    }
    return gw;
  }

  private constructor(options: GatewayOptions, store: Store, media: MediaService) {
    this.config = options.config;
    this.env = options.env;
    this.log = options.log;
    this.store = store;
    this.media = media;
    this.#targets = new TargetResolver(this.config);
    this.services = servicesOf(this, this.#statusProviders);
    for (const route of media.routes()) this.router.add(route.method, route.path, route.handler, route);
    const observers = new InboundObservers();
    const pipeline = new Pipeline(this.services, this.#trustGate, this.metrics, observers);
    registerBuiltinCommands(this.commands, pipeline);
    this.channels = new ChannelSet({
      router: this.router,
      ctx: this.channelContext(),
      log: this.log,
      config: this.config,
      mediaRoutes: () => media.routes(),
    });
    const auth = new AdminAuth(this.config.adminToken);
    const audit = new AuditLog(store);
    const admin = adminRoutes(this.router, auth, audit);
    registerHealthRoutes(this.router, { store, ready: () => this.ready, metrics: this.metrics });
    registerConsoleUiRoutes(this.router);
    const statusSource: AdminStatusSource = {
      store,
      version: VERSION,
      startedAt: this.startedAt,
      url: () => this.url,
      adapters: () => this.adapters(),
      wakeQueues: () => this.wakeQueues(),
      channelExtras: (channel, account) => ({
        state: this.channels.state(channel, account),
        agentUrl: redactUrl(agentUrlFor(this.config, channel, account)),
      }),
    };
    registerAdminRoutes(admin, statusSource);
    this.#consoleEvents = registerConsoleApi(admin, {
      auth,
      audit,
      store,
      config: this.config,
      env: this.env,
      status: () => adminStatus(statusSource),
      reload: (next) => this.reload(next),
      loadConfig: options.loadConfig,
    });
    registerLifecycleRoutes(admin, this, options);
    this.host = hostOf(this, {
      adminRoutes: admin,
      status: { add: (provider) => this.#statusProviders.push(provider) },
      trustGate: this.#trustGate,
      targetDecorators: this.#targets,
      inbound: { observe: (o) => observers.add(o) },
    });
    const workers = createQueueWorkers(this.config, {
      store,
      owner: this.owner,
      log: this.log,
      metrics: this.metrics,
      pipeline,
      waiters: this.waiters,
      inflight: this.#inflight,
      adapter: (c, a) => this.adapter(c, a),
      adapters: () => this.adapters(),
    });
    this.#inbox = workers.inbox;
    this.#outbox = workers.outbox;
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
    return this.channels.listenerUrls;
  }

  adapters(): ChannelAdapter[] {
    return this.channels.list();
  }

  adapter(channel: string, account: string): ChannelAdapter | undefined {
    return this.channels.get(channel, account);
  }

  /** Opens the listeners and starts the work; if any part fails, everything is stopped again before rethrowing. */
  async start(): Promise<void> {
    try {
      this.#server = await openMainListener(this.router, this.config, this.log);
      this.#inbox.start();
      this.#outbox.start();
      this.#retention = startRetention(this.store, this.config, this.log, () => this.#stopping);
      await this.channels.startAll();
    } catch (err) {
      await this.stop().catch(() => {});
      throw err;
    }
    this.#ready = true;
    const channels = this.adapters().map((a) => `${a.channel}/${a.account}`);
    this.log.info({ url: this.url, store: this.store.kind, channels }, "clawgate is ready");
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
    await this.channels.stopAll(step);
    this.#consoleEvents.close();
    await step("listener", () => this.#server?.close());
    await step("inbox", () => this.#inbox.stop(15_000));
    await step("outbox", () => this.#outbox.stop(10_000));
    await step("retention", () => this.#retention?.stop());
    for (const ext of this.#extensions) await step(`extension ${ext.name}`, () => ext.stop?.());
    await step("store", () => this.store.close());
    this.log.info("stopped");
  }

  /** Commits an inbound event; called by every channel's ingress. */
  /** Stops the agent call in progress for a session on this replica (the web chat's stop); whether there was one. */
  cancelReply(sessionKey: string): boolean {
    return this.#inflight.cancel(sessionKey, new Error("stopped by the user"));
  }

  async ingest(event: InboundEvent): Promise<IngestResult> {
    return commitInbound(event, {
      config: this.config,
      store: this.store,
      log: this.log,
      metrics: this.metrics,
      inflight: this.#inflight,
      notifyInbox: () => this.#inbox.notify(),
      mayReset: (e) => this.#mayReset(e),
    });
  }

  /** Whether this event is a /new that the pipeline would let its sender run (the same rule). */
  #mayReset(event: InboundEvent): boolean {
    const adapter = this.adapter(event.channel, event.account);
    if (!adapter || !isResetCommand(event)) return false;
    const canonical = this.commands.canonical("/new");
    return mayRunCommand(canonical, event, adapter.isTrusted(event), this.config.policy);
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
    const cap = this.config.limits.answerChars;
    const first = await enqueueDelivery(this.store, adapter, address, message, idempotencyKey, opts, cap);
    this.#outbox.notify();
    return first;
  }

  /**
   * Applies a new configuration without a restart. Channel accounts that were added, removed or changed start
   * and stop; the others are not touched; in-flight work finishes. Sections read only at start are named in
   * `restartNeeded`. One reload at a time: a second waits for the first.
   */
  reload(next: Config): Promise<ReloadReport> {
    const run = this.#reloading.then(async () => {
      const channels = await this.channels.apply(next);
      // The running config is one shared object: its channel sections become the new ones for every reader.
      this.config.channels = next.channels;
      this.config.webchat = next.webchat;
      const restartNeeded = Object.keys(next).filter(
        (k) => JSON.stringify(next[k as keyof Config]) !== JSON.stringify(this.config[k as keyof Config]),
      );
      this.log.info({ channels, restartNeeded }, "configuration reloaded");
      return { channels, restartNeeded };
    });
    this.#reloading = run.catch(() => {});
    return run;
  }

  /** Wakes both queue workers now, e.g. after an operator put dead letters back (instead of the next poll). */
  wakeQueues() {
    this.#inbox.notify();
    this.#outbox.notify();
  }

  /** The conversation target for an event: the routed agent, then the extensions' decorators. */
  targetFor(event: InboundEvent): Target {
    return this.#targets.resolve(event);
  }

  channelContext(): ChannelContext {
    return channelContextOf(this);
  }
}
