// The running channel adapters and their lifecycle: built from the config, their routes mounted on the main
// router (each route owned by its adapter so it can be taken down again), their own listeners, start and stop
// one at a time, and a reload that applies only what changed: an account whose settings are unchanged is not
// touched, an added one starts, a removed one stops, a changed one is replaced. In-flight work is not cut: the
// inbox and outbox look adapters up when they use them, and a stopped adapter finishes its own calls first.
import type { Logger } from "pino";
import { channelAccounts } from "../channels/sdk/accounts.ts";
import type { ChannelAdapter, ChannelContext, ChannelModule, WebhookRoute } from "../channels/types.ts";
import type { Config } from "../config/schema.ts";
import { mountChannelRoutes, openChannelListeners } from "../http/listeners.ts";
import type { Router } from "../http/router.ts";
import type { HttpServer } from "../http/server.ts";
import { checkDeclaredFeatures, enabledChannels } from "./channel-setup.ts";

interface Planned {
  module: ChannelModule;
  account: string;
  settings: unknown;
  /** What decides "changed": the account's validated settings (and the web chat's own section). */
  fingerprint: string;
}

export interface ChannelChange {
  channel: string;
  account: string;
  change: "added" | "removed" | "changed";
}

export type ChannelState = "running" | "stopped";

const keyOf = (channel: string, account: string) => `${channel}:${account}`;

/** Every enabled account the config asks for, by `channel:account`. */
export function plannedChannels(config: Config): Map<string, Planned> {
  const out = new Map<string, Planned>();
  for (const { name, module, section } of enabledChannels(config)) {
    for (const { account, settings } of channelAccounts(module, section)) {
      const key = keyOf(name, account);
      if (out.has(key)) throw new Error(`channel account ${key} is configured twice`);
      const extra = name === "webchat" ? config.webchat : undefined;
      out.set(key, { module, account, settings, fingerprint: JSON.stringify([settings, extra]) });
    }
  }
  return out;
}

/** How many channel accounts start at once. */
const START_CONCURRENCY = 16;

/** Imports the adapter code of every channel the config enables (built-in ones load it only when configured). */
export async function loadEnabledChannels(config: Config): Promise<void> {
  for (const { module } of enabledChannels(config)) await module.load?.();
}

/** Built from a config whose channels' code is loaded (loadEnabledChannels). */
export class ChannelSet {
  readonly #router: Router;
  readonly #ctx: ChannelContext;
  readonly #log: Logger;
  readonly #config: Config;
  readonly #mediaRoutes: () => WebhookRoute[];
  readonly #adapters = new Map<string, ChannelAdapter>();
  readonly #fingerprints = new Map<string, string>();
  readonly #stopped = new Set<string>();
  #listeners: HttpServer[] = [];
  #started = false;

  constructor(o: {
    router: Router;
    ctx: ChannelContext;
    log: Logger;
    config: Config;
    mediaRoutes: () => WebhookRoute[];
  }) {
    this.#router = o.router;
    this.#ctx = o.ctx;
    this.#log = o.log;
    this.#config = o.config;
    this.#mediaRoutes = o.mediaRoutes;
    for (const [key, p] of plannedChannels(o.config)) this.#create(key, p);
  }

  list(): ChannelAdapter[] {
    return [...this.#adapters.values()];
  }

  get(channel: string, account: string): ChannelAdapter | undefined {
    return this.#adapters.get(keyOf(channel, account));
  }

  state(channel: string, account: string): ChannelState | undefined {
    const key = keyOf(channel, account);
    if (!this.#adapters.has(key)) return undefined;
    return this.#stopped.has(key) ? "stopped" : "running";
  }

  get listenerUrls(): string[] {
    return this.#listeners.map((l) => l.url);
  }

  /** Mounts every adapter's routes (after extensions added theirs, so a clash names the channel). */
  mountAll(): void {
    for (const [key, adapter] of this.#adapters) mountChannelRoutes(this.#router, adapter, key);
  }

  async startAll(): Promise<void> {
    this.#listeners = await openChannelListeners(
      this.#adapters.values(),
      this.#mediaRoutes(),
      this.#config,
      this.#log,
    );
    this.#started = true;
    // Several at a time: a start waits on its platform (Telegram's getMe, Discord's READY) and on a store lease,
    // and a gateway with a thousand bots should not wait for them one after another.
    // After a failure no further account starts, and the error is thrown once those already starting are done,
    // so the gateway's stop never races a start.
    const queue = [...this.#adapters.values()];
    const worker = async () => {
      for (let adapter = queue.shift(); adapter; adapter = queue.shift()) {
        await this.#start(adapter).catch((err: unknown) => {
          queue.length = 0;
          throw err;
        });
      }
    };
    const workers = Array.from({ length: Math.min(START_CONCURRENCY, queue.length) }, worker);
    const failed = (await Promise.allSettled(workers)).find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  async stopAll(step: (what: string, fn: () => Promise<unknown> | unknown) => Promise<void>): Promise<void> {
    for (const adapter of this.#adapters.values())
      await step(`channel ${adapter.channel}`, () => adapter.stop?.());
    for (const l of this.#listeners) await step("channel listener", () => l.close());
    this.#listeners = [];
  }

  /** Stops one account: its receive loop ends and its webhooks answer 404 until it is started again. */
  async stopOne(channel: string, account: string): Promise<void> {
    const key = keyOf(channel, account);
    const adapter = this.#must(key);
    if (this.#stopped.has(key)) return;
    this.#stopped.add(key);
    this.#router.removeOwner(key);
    await adapter.stop?.();
    this.#log.info({ channel, account }, "channel stopped");
  }

  async startOne(channel: string, account: string): Promise<void> {
    const key = keyOf(channel, account);
    const adapter = this.#must(key);
    if (!this.#stopped.has(key)) return;
    mountChannelRoutes(this.#router, adapter, key);
    this.#stopped.delete(key);
    await this.#start(adapter);
  }

  /** A fresh adapter from the current settings (a restart clears whatever state the old one held). */
  async restartOne(channel: string, account: string): Promise<void> {
    const key = keyOf(channel, account);
    this.#must(key);
    await loadEnabledChannels(this.#config);
    const planned = plannedChannels(this.#config).get(key);
    if (!planned) throw new Error(`${key} is no longer in the configuration`);
    await this.#replace(key, planned);
  }

  /**
   * Applies the channel sections of `next` (already validated): unchanged accounts keep running untouched.
   * The caller then makes `next.channels` the running config's.
   */
  async apply(next: Config): Promise<ChannelChange[]> {
    await loadEnabledChannels(next);
    const planned = plannedChannels(next);
    const changes: ChannelChange[] = [];
    const [channelOf, accountOf] = [
      (k: string) => k.split(":")[0]!,
      (k: string) => k.slice(k.indexOf(":") + 1),
    ];
    // Build the new adapters first (no I/O): a module that refuses its settings changes nothing.
    const fresh = new Map<string, ChannelAdapter>();
    for (const [key, p] of planned) {
      if (this.#fingerprints.get(key) === p.fingerprint) continue;
      fresh.set(key, this.#build(key, p));
    }
    let listenersChanged = false;
    // Which of the new ones replace a running account, decided before the old ones are taken down.
    const replacing = new Set([...fresh.keys()].filter((key) => this.#adapters.has(key)));
    for (const key of [...this.#adapters.keys()]) {
      if (planned.has(key) && !fresh.has(key)) continue;
      const old = this.#adapters.get(key)!;
      listenersChanged ||= old.listen !== undefined;
      await this.#takeDown(key, old);
      if (!planned.has(key))
        changes.push({ channel: channelOf(key), account: accountOf(key), change: "removed" });
    }
    for (const [key, adapter] of fresh) {
      this.#adapters.set(key, adapter);
      this.#fingerprints.set(key, planned.get(key)!.fingerprint);
      mountChannelRoutes(this.#router, adapter, key);
      listenersChanged ||= adapter.listen !== undefined;
      changes.push({
        channel: adapter.channel,
        account: adapter.account,
        change: replacing.has(key) ? "changed" : "added",
      });
    }
    if (this.#started) {
      if (listenersChanged) await this.#reopenListeners();
      for (const adapter of fresh.values()) await this.#start(adapter);
    }
    return changes;
  }

  async #replace(key: string, p: Planned): Promise<void> {
    const adapter = this.#build(key, p);
    const old = this.#adapters.get(key);
    if (old) await this.#takeDown(key, old);
    this.#adapters.set(key, adapter);
    this.#fingerprints.set(key, p.fingerprint);
    mountChannelRoutes(this.#router, adapter, key);
    if (this.#started) {
      if (adapter.listen || old?.listen) await this.#reopenListeners();
      await this.#start(adapter);
    }
  }

  async #takeDown(key: string, adapter: ChannelAdapter): Promise<void> {
    this.#router.removeOwner(key);
    this.#adapters.delete(key);
    this.#fingerprints.delete(key);
    this.#stopped.delete(key);
    await adapter
      .stop?.()
      .catch((err: Error) => this.#log.error({ key, err: err.message }, "channel stop failed"));
  }

  async #reopenListeners(): Promise<void> {
    for (const l of this.#listeners) await l.close().catch(() => {});
    this.#listeners = await openChannelListeners(
      this.#adapters.values(),
      this.#mediaRoutes(),
      this.#config,
      this.#log,
    );
  }

  #create(key: string, p: Planned): void {
    this.#adapters.set(key, this.#build(key, p));
    this.#fingerprints.set(key, p.fingerprint);
  }

  #build(key: string, p: Planned): ChannelAdapter {
    const adapter = p.module.create(p.settings as never, this.#ctx, p.account);
    checkDeclaredFeatures(adapter, key);
    return adapter;
  }

  async #start(adapter: ChannelAdapter): Promise<void> {
    await adapter.start?.().catch((err: Error) => {
      this.#log.error(
        { channel: adapter.channel, account: adapter.account, err: err.message },
        "channel failed to start",
      );
      throw err;
    });
  }

  #must(key: string): ChannelAdapter {
    const adapter = this.#adapters.get(key);
    if (!adapter) throw new UnknownChannelError(key);
    return adapter;
  }
}

export class UnknownChannelError extends Error {
  constructor(key: string) {
    super(`no channel account ${key} is configured`);
    this.name = "UnknownChannelError";
  }
}
