// Loads the effective configuration: file (clawgate.json or the seed's ocg.json), then a .env file beside
// it, then environment variables, then command-line flags. Validation errors name the key path.
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseEnv } from "node:util";
import type { z } from "zod";
import { type ChannelEnvMapper, coreEnvOverlay, type Env } from "./env.ts";
import { ConfigError, formatIssues } from "./errors.ts";
import { type Config, configSchema } from "./schema.ts";
import { type ConfigSource, configSources } from "./sources.ts";

export const DEFAULT_AGENT_URL = "http://127.0.0.1:11434/v1/chat/completions";

export interface LoadOptions {
  /** --config */
  configPath?: string;
  /** --host / --port */
  host?: string;
  port?: number;
  env?: Env;
  cwd?: string;
  channelEnv?: Record<string, ChannelEnvMapper>;
  /** The schema assembled from the channel modules (src/channels/registry.ts appConfigSchema); default: core only. */
  schema?: z.ZodType;
}

export interface LoadedConfig {
  config: Config;
  /** The file the config came from, if any. */
  source?: string;
  /** The environment after the .env file was merged in (the process env wins). */
  env: Env;
  /** Where each effective setting came from, by dotted key. */
  sources: Record<string, ConfigSource>;
}

/** What a loaded config remembers about its making, for the console (config page, channel edits). */
export interface ConfigOrigin {
  /** The config file, if any. */
  file?: string;
  sources: Record<string, ConfigSource>;
  /** Reads the configuration again the same way (same file, env, flags, schema). */
  reread(): Config;
}

const origins = new WeakMap<Config, ConfigOrigin>();

/** How `config` was loaded, when it came from loadConfig/resolveConfig. */
export function configOrigin(config: Config): ConfigOrigin | undefined {
  return origins.get(config);
}

export function findConfigPath(opts: LoadOptions, env: Env, cwd: string): string | undefined {
  const explicit = opts.configPath ?? env.CLAWGATE_CONFIG ?? env.OCG_CONFIG_PATH;
  if (explicit) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) {
      throw new ConfigError(p, [`config file not found: ${p}. Create it or drop --config/CLAWGATE_CONFIG.`]);
    }
    return p;
  }
  for (const name of ["clawgate.json", "ocg.json"]) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

function readJson(path: string): unknown {
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
}

function loadDotEnv(dir: string, env: Env): Env {
  const path = resolve(dir, ".env");
  if (!existsSync(path)) return env;
  const fromFile = parseEnv(readFileSync(path, "utf8"));
  return { ...fromFile, ...env };
}

/**
 * Lays `over` (environment, flags) onto `base` (the file). Undefined leaves of `over` change nothing. A file
 * value of the wrong type (`"server": "oops"`, `[]`, `5`, `null`) is kept as it is, so validation refuses it with
 * its key path instead of an overlay silently replacing it with defaults.
 */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(over)) return over;
  if (base !== undefined && !isPlainObject(base)) return base;
  const out: Record<string, unknown> = { ...(base ?? {}) };
  for (const [k, v] of Object.entries(over)) {
    const merged = deepMerge(out[k], v);
    if (merged !== undefined) out[k] = merged;
  }
  return base === undefined && Object.keys(out).length === 0 ? undefined : out;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** No setting is nested anywhere near this deep; deeper input is refused before anything walks it. */
export const MAX_CONFIG_DEPTH = 32;

/** The key path of a value nested deeper than `max` (walked without recursion), or undefined. */
export function pathDeeperThan(value: unknown, max: number): string | undefined {
  const stack: { v: unknown; path: string[] }[] = [{ v: value, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (path.length >= max) return path.slice(0, max).join(".");
    for (const [k, child] of Object.entries(v)) stack.push({ v: child, path: [...path, k] });
  }
  return undefined;
}

export function loadConfig(opts: LoadOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const baseEnv = opts.env ?? process.env;
  const source = findConfigPath(opts, baseEnv, cwd);
  const env = loadDotEnv(source ? dirname(source) : cwd, baseEnv);
  const fileValue = source ? readJson(source) : {};
  const config = resolveConfig(fileValue, env, { ...opts, cwd }, source ?? "configuration");
  const sources = origins.get(config)?.sources ?? {};
  origins.set(config, { file: source, sources, reread: () => loadConfig(opts).config });
  return { config, source, env, sources };
}

/**
 * The configuration a file's JSON value gives once the environment and flags are laid over it, validated:
 * what `loadConfig` returns, for callers that hold the JSON already (`clawgate channels add`).
 */
export function resolveConfig(
  fileValue: unknown,
  env: Env,
  opts: Pick<LoadOptions, "host" | "port" | "channelEnv" | "cwd" | "schema"> = {},
  source = "configuration",
): Config {
  if (!isPlainObject(fileValue)) {
    throw new ConfigError(source, ["(top level): expected a JSON object"]);
  }
  const tooDeep = pathDeeperThan(fileValue, MAX_CONFIG_DEPTH);
  if (tooDeep) {
    throw new ConfigError(source, [
      `${tooDeep}: nested deeper than ${MAX_CONFIG_DEPTH} levels; no setting is that deep`,
    ]);
  }
  let envLayer = coreEnvOverlay(env) as unknown;
  for (const [name, mapper] of Object.entries(opts.channelEnv ?? {})) {
    const section = mapper(env);
    if (section) envLayer = deepMerge(envLayer, { channels: { [name]: section } });
  }
  const flagLayer = deepMerge(undefined, { server: { host: opts.host, port: opts.port } });
  const merged = deepMerge(deepMerge(fileValue, envLayer), flagLayer);
  const parsed = (opts.schema ?? configSchema).safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(source, formatIssues(parsed.error.issues, merged));
  }
  // The assembled schema's channel sections are the core schema's, refined: the same output shape.
  const config = parsed.data as Config;
  if (config.verbose && config.logLevel === "info") config.logLevel = "debug";
  config.dataDir = resolve(opts.cwd ?? process.cwd(), config.dataDir);
  const sources = configSources(config, { file: fileValue, env: envLayer, flag: flagLayer });
  const again = { ...opts };
  origins.set(config, { sources, reread: () => resolveConfig(fileValue, env, again, source) });
  return config;
}

/** channel/account agentUrl > OCG_AGENT_URL > file-level agentUrl > Ollama's default. */
export function agentUrlFor(config: Config, channel: string, account?: string): string {
  const section = config.channels[channel];
  const acc = account ? section?.accounts?.[account] : undefined;
  const accUrl = acc && typeof acc.agentUrl === "string" ? acc.agentUrl : undefined;
  return accUrl ?? section?.agentUrl ?? config.agentUrl ?? DEFAULT_AGENT_URL;
}

export function modelFor(config: Config, channel: string): string | undefined {
  return config.channels[channel]?.model ?? config.model;
}

export function databaseUrl(config: Config): string {
  return config.database.url ?? resolve(config.dataDir, "clawgate.db");
}
