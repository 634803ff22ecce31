// Shared CLI plumbing: loading the config the same way `start` does, and calling the running gateway.

import { dirname } from "node:path";
import type { Command } from "commander";
import { appConfigSchema, channelEnvMappers } from "../channels/registry.ts";
import { ConfigError } from "../config/errors.ts";
import { findConfigPath, type LoadedConfig, loadConfig } from "../config/load.ts";
import { installPlugins, type LoadedPlugin, PluginLoadError, pluginSpecsIn } from "../plugins/loader.ts";

export interface GlobalOptions {
  config?: string;
  host?: string;
  port?: string;
}

/**
 * The configuration as `start` reads it: the schema the channel modules assembled, so a file start would refuse
 * is refused here too. `sections: "as written"` checks only the core keys and the channel sections' own
 * (enabled, agentUrl…): for `channels list`, which shows incomplete and unknown channels rather than refusing.
 */
export function load(cmd: Command, opts: { sections?: "checked" | "as written" } = {}): LoadedConfig {
  try {
    return readConfig(cmd, opts);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

/** load() that throws ConfigError instead of exiting. */
function readConfig(cmd: Command, opts: { sections?: "checked" | "as written" } = {}): LoadedConfig {
  const o = cmd.optsWithGlobals() as GlobalOptions;
  const port = o.port === undefined ? undefined : Number(o.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new ConfigError("--port", [`must be a whole number from 0 to 65535, got "${o.port}"`]);
  }
  return loadConfig({
    configPath: o.config,
    host: o.host,
    port,
    channelEnv: channelEnvMappers(),
    schema: opts.sections === "as written" ? undefined : appConfigSchema(),
  });
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`clawgate: ${message}\n`);
  process.exit(code);
}

/**
 * Calls the running gateway's admin API with the configured admin token. Only the listener and the token are
 * read: the running gateway already checked its channels, with environment this shell may not have.
 */
export async function adminCall(cmd: Command, method: string, path: string, body?: unknown) {
  const loaded = load(cmd, { sections: "as written" });
  const { host, port } = loaded.config.server;
  const h =
    host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${h}:${port}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        ...(loaded.config.adminToken ? { "x-openclaw-admin-token": loaded.config.adminToken } : {}),
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (err) {
    fail(`cannot reach the gateway at ${url} (${(err as Error).message}). Is \`clawgate start\` running?`);
  }
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) fail(`${method} ${path} failed: HTTP ${res.status} ${String(json.error ?? "")}`);
  return json;
}

/**
 * `load` plus the config's outside plugins. The plugins are loaded first (their `plugins` list read from the raw
 * file) and their channel modules added to the registry, so the config is then validated and env-mapped with
 * them. A plugin that cannot be loaded ends the command with its name and reason.
 */
export async function loadWithPlugins(cmd: Command): Promise<LoadedConfig & { plugins: LoadedPlugin[] }> {
  try {
    return await readConfigWithPlugins(cmd);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof PluginLoadError) fail(err.message);
    throw err;
  }
}

/**
 * loadWithPlugins for a process that must outlive a bad file (reload, restart, SIGHUP): throws ConfigError or
 * PluginLoadError with the reason instead of exiting.
 */
export async function readConfigWithPlugins(
  cmd: Command,
): Promise<LoadedConfig & { plugins: LoadedPlugin[] }> {
  const o = cmd.optsWithGlobals() as GlobalOptions;
  const cwd = process.cwd();
  const source = findConfigPath({ configPath: o.config }, process.env, cwd);
  const baseDir = source ? dirname(source) : cwd;
  const plugins = await installPlugins(pluginSpecsIn(source), { baseDir, cwd });
  return { ...readConfig(cmd), plugins };
}
