// Which channel sections become adapters, shared by `clawgate start` (the gateway) and `clawgate config check`,
// so the check refuses exactly what start refuses: both run each enabled channel module's own create(), which
// validates its section. Adapters do no I/O until start(), so the check builds them with a context that
// refuses any use (no store is opened, nothing listens) and throws them away.
import pino from "pino";
import { channelModules } from "../channels/registry.ts";
import type { ChannelAdapter, ChannelContext, ChannelModule } from "../channels/types.ts";
import type { Env } from "../config/env.ts";
import { ConfigError } from "../config/errors.ts";
import type { Config } from "../config/schema.ts";
import type { Store } from "../store/types.ts";

/** The enabled channel sections, in registry order (the web chat follows `webchat.enabled`). */
export function enabledChannels(
  config: Config,
  modules: Record<string, ChannelModule> = channelModules,
): { name: string; module: ChannelModule; section: Config["channels"][string] }[] {
  const out = [];
  for (const [name, module] of Object.entries(modules)) {
    const section = config.channels[name];
    const enabled = name === "webchat" ? config.webchat.enabled : section && section.enabled !== false;
    if (enabled) out.push({ name, module, section: section ?? {} });
  }
  return out;
}

/** Builds every enabled channel's adapters; throws on the first invalid section or a doubled account. */
export function createChannelAdapters(config: Config, ctx: ChannelContext): ChannelAdapter[] {
  const adapters = new Map<string, ChannelAdapter>();
  for (const { module, section } of enabledChannels(config)) {
    for (const adapter of module.create(section, ctx)) {
      const key = `${adapter.channel}:${adapter.account}`;
      if (adapters.has(key)) throw new Error(`channel account ${key} is configured twice`);
      adapters.set(key, adapter);
    }
  }
  return [...adapters.values()];
}

/**
 * What `start` would refuse in the channel sections, one line per problem (every channel is checked, not just
 * the first bad one). Empty when start would accept them.
 */
export function checkChannels(config: Config, env: Env): string[] {
  const ctx = inertContext(config, env);
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const { name, module, section } of enabledChannels(config)) {
    try {
      for (const adapter of module.create(section, ctx)) {
        const key = `${adapter.channel}:${adapter.account}`;
        if (seen.has(key)) problems.push(`channels.${name}: channel account ${key} is configured twice`);
        seen.add(key);
      }
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else problems.push(prefixed(name, (err as Error).message ?? String(err)));
    }
  }
  return problems;
}

const prefixed = (name: string, message: string) =>
  message.startsWith(`channels.${name}`) ? message : `channels.${name}: ${message}`;

function inertContext(config: Config, env: Env): ChannelContext {
  const refuse = (what: string) => () => {
    throw new Error(`${what} is not available while only checking the configuration`);
  };
  const store = new Proxy({} as Store, {
    get: (_t, prop) => (prop === "then" ? undefined : refuse(`store.${String(prop)}`)),
  });
  return {
    log: pino({ level: "silent" }),
    store,
    config,
    env,
    owner: "config-check",
    commandList: () => [],
    ingest: refuse("ingest"),
    awaitReply: async () => undefined,
  };
}
