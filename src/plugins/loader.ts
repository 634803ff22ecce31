// Loads the outside plugins named by `plugins` in the config: "./path/to/plugin.ts" relative to the config
// file, or an npm package name from the working directory's node_modules. Any plugin that cannot be loaded
// (not found, throws on import, wrong shape, other apiVersion, a channel name already taken) stops startup
// with the plugin's name and the reason: a gateway silently missing a channel is worse than one that refuses.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { addChannelModules, channelModules } from "../channels/registry.ts";
import type { ChannelModule } from "../channels/types.ts";
import { type ClawgatePlugin, PLUGIN_API_VERSION } from "./api.ts";

export interface LoadedPlugin {
  /** As written in the config. */
  spec: string;
  name: string;
  /** From the plugin's package.json, when it has one. */
  version?: string;
  /** The file that was imported. */
  path: string;
  plugin: ClawgatePlugin;
}

export class PluginLoadError extends Error {
  constructor(spec: string, reason: string, name?: string) {
    super(
      `plugin ${name && name !== spec ? `"${name}" (${spec})` : `"${spec}"`} could not be loaded: ${reason}`,
    );
    this.name = "PluginLoadError";
  }
}

export interface LoadPluginsOptions {
  /** Where relative paths start: the config file's directory. */
  baseDir: string;
  /** Where npm names are looked up (its node_modules): the working directory. */
  cwd: string;
}

/** Loads every plugin in order; throws PluginLoadError on the first that fails, or on a doubled channel name. */
export async function loadPlugins(
  specs: readonly string[],
  opts: LoadPluginsOptions,
  builtinChannels: readonly string[] = [],
): Promise<LoadedPlugin[]> {
  const loaded: LoadedPlugin[] = [];
  for (const spec of specs) loaded.push(await loadPlugin(spec, opts));
  pluginChannelModules(loaded, builtinChannels);
  return loaded;
}

/**
 * Loads the plugins and adds their channel modules to the registry, so the config schema, env mapping, `config
 * check` and the gateway see them as they see a built-in channel. Loading the same plugins again (a second
 * gateway in one test process) is a no-op for the registry: a module is the same object the second time.
 */
export async function installPlugins(
  specs: readonly string[],
  opts: LoadPluginsOptions,
): Promise<LoadedPlugin[]> {
  const plugins: LoadedPlugin[] = [];
  for (const spec of specs) plugins.push(await loadPlugin(spec, opts));
  const theirs = new Set(plugins.flatMap((p) => p.plugin.channels ?? []));
  const others = Object.entries(channelModules).filter(([, m]) => !theirs.has(m));
  addChannelModules(
    pluginChannelModules(
      plugins,
      others.map(([name]) => name),
    ),
  );
  return plugins;
}

export async function loadPlugin(spec: string, opts: LoadPluginsOptions): Promise<LoadedPlugin> {
  const path = resolvePlugin(spec, opts);
  let exported: Record<string, unknown>;
  try {
    exported = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    const e = err as Error & { code?: string };
    const hint =
      e.code === "ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING"
        ? " (Node runs no TypeScript inside node_modules: the plugin must be published as JavaScript)"
        : "";
    throw new PluginLoadError(spec, `importing ${path} failed: ${e.message ?? String(err)}${hint}`);
  }
  let value = exported.default ?? exported.plugin;
  // The factory form: the gateway hands the plugin its SDK, so a published plugin needs clawgate only for types.
  if (typeof value === "function") {
    try {
      value = await (value as (sdk: unknown) => unknown)(await import("./api.ts"));
    } catch (err) {
      throw new PluginLoadError(spec, `its setup function threw: ${(err as Error).message ?? String(err)}`);
    }
  }
  const plugin = checkShape(spec, value);
  return { spec, name: plugin.name, version: packageVersion(path), path, plugin };
}

/** The channel modules the plugins provide; throws when two modules (or a plugin and a built-in) share a name. */
export function pluginChannelModules(
  plugins: readonly LoadedPlugin[],
  builtinChannels: readonly string[],
): ChannelModule[] {
  const owner = new Map<string, string>(builtinChannels.map((n) => [n, "the built-in channel"]));
  const out: ChannelModule[] = [];
  for (const p of plugins) {
    for (const module of p.plugin.channels ?? []) {
      const taken = owner.get(module.name);
      if (taken) {
        throw new PluginLoadError(
          p.spec,
          `it provides channel "${module.name}", which ${taken} provides already; two modules cannot share a channel name (remove one of them from "plugins")`,
          p.name,
        );
      }
      owner.set(module.name, `plugin "${p.name}" (${p.spec})`);
      out.push(module);
    }
  }
  return out;
}

/**
 * The `plugins` list of a config file, read before the file is validated: the channels the plugins provide are
 * part of what validation accepts. A value that is not a list of strings is left to validation to refuse.
 */
export function pluginSpecsIn(configPath: string | undefined): string[] {
  if (!configPath) return [];
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(configPath, "utf8"));
  } catch {
    return [];
  }
  const list = (value as { plugins?: unknown } | null)?.plugins;
  return Array.isArray(list) && list.every((s) => typeof s === "string" && s !== "") ? list : [];
}

const isPath = (spec: string) =>
  spec.startsWith("./") || spec.startsWith("../") || isAbsolute(spec) || spec.startsWith("file:");

function resolvePlugin(spec: string, opts: LoadPluginsOptions): string {
  if (isPath(spec)) {
    const path = spec.startsWith("file:") ? fileURLToPath(spec) : resolve(opts.baseDir, spec);
    if (!existsSync(path)) {
      throw new PluginLoadError(spec, `no file at ${path} (paths are relative to the config file)`);
    }
    return path;
  }
  try {
    return createRequire(join(opts.cwd, "package.json")).resolve(spec);
  } catch (err) {
    // An ESM-only package may export only the "import" condition, which require.resolve does not take.
    const viaImport = importEntry(spec, opts.cwd);
    if (viaImport) return viaImport;
    throw new PluginLoadError(
      spec,
      `not found in ${join(opts.cwd, "node_modules")} (${(err as Error).message.split("\n")[0]}); install it there with \`npm install ${spec}\`, or name a file as "./path/to/plugin.ts"`,
    );
  }
}

function importEntry(spec: string, cwd: string): string | undefined {
  const dir = join(cwd, "node_modules", spec);
  const pkg = readPackage(join(dir, "package.json"));
  if (!pkg) return undefined;
  const root = typeof pkg.exports === "object" && pkg.exports ? (pkg.exports as Record<string, unknown>) : {};
  const dot = (root["."] ?? root) as unknown;
  const entry =
    typeof dot === "string"
      ? dot
      : typeof dot === "object" && dot
        ? ((dot as Record<string, unknown>).import ?? (dot as Record<string, unknown>).default)
        : (pkg.module ?? pkg.main);
  return typeof entry === "string" && existsSync(join(dir, entry)) ? join(dir, entry) : undefined;
}

const KNOWN_KEYS = new Set(["apiVersion", "name", "channels", "description"]);

function checkShape(spec: string, value: unknown): ClawgatePlugin {
  if (typeof value !== "object" || value === null) {
    throw new PluginLoadError(
      spec,
      "it has no plugin export: export default (or export const plugin =) an object { apiVersion, name, channels }, or a function of the SDK returning one (docs/plugins.md)",
    );
  }
  const p = value as Record<string, unknown>;
  const name = typeof p.name === "string" && p.name.trim() !== "" ? p.name : undefined;
  if (!name) throw new PluginLoadError(spec, 'its export has no "name" (a non-empty string)');
  if (p.apiVersion !== PLUGIN_API_VERSION) {
    const wants = typeof p.apiVersion === "number" ? `plugin API version ${p.apiVersion}` : "no apiVersion";
    const what =
      typeof p.apiVersion === "number" && p.apiVersion > PLUGIN_API_VERSION
        ? "upgrade clawgate, or use a release of the plugin written for this version"
        : "use a release of the plugin written for this version, or ask its author to update it (docs/plugins.md, API versions)";
    throw new PluginLoadError(
      spec,
      `it declares ${wants}, but this clawgate offers plugin API version ${PLUGIN_API_VERSION}: ${what}`,
      name,
    );
  }
  for (const key of Object.keys(p)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new PluginLoadError(
        spec,
        `it provides "${key}", which plugin API version ${PLUGIN_API_VERSION} does not offer (only "channels")`,
        name,
      );
    }
  }
  if (p.channels !== undefined && !Array.isArray(p.channels)) {
    throw new PluginLoadError(spec, '"channels" must be an array of channel modules', name);
  }
  for (const [i, m] of ((p.channels as unknown[]) ?? []).entries()) {
    const mod = m as Partial<ChannelModule> | null;
    if (!mod || typeof mod.name !== "string" || !/^[a-z][a-z0-9_-]*$/.test(mod.name)) {
      throw new PluginLoadError(
        spec,
        `channels[${i}] needs a "name" of lower-case letters, digits, "-" or "_" (the key under "channels" in the config)`,
        name,
      );
    }
    const modVersion = (mod as { apiVersion?: unknown }).apiVersion;
    if (modVersion !== undefined && modVersion !== PLUGIN_API_VERSION) {
      throw new PluginLoadError(
        spec,
        `channel "${mod.name}" was written for channel API version ${String(modVersion)}, but this clawgate offers version ${PLUGIN_API_VERSION}`,
        name,
      );
    }
    if (typeof mod.create !== "function") {
      throw new PluginLoadError(
        spec,
        `channel "${mod.name}" has no create(settings, ctx, account) function`,
        name,
      );
    }
    const settings = (mod as { settings?: { safeParse?: unknown } }).settings;
    if (!settings || typeof settings.safeParse !== "function") {
      throw new PluginLoadError(
        spec,
        `channel "${mod.name}" has no "settings" schema: declare its settings with the z the SDK hands the plugin (docs/plugins.md)`,
        name,
      );
    }
    if (typeof (mod as { multiAccount?: unknown }).multiAccount !== "boolean") {
      throw new PluginLoadError(
        spec,
        `channel "${mod.name}" must say whether it takes several accounts (multiAccount)`,
        name,
      );
    }
  }
  return value as ClawgatePlugin;
}

/** The version in the nearest package.json above the plugin's file, if any. */
function packageVersion(path: string): string | undefined {
  let dir = dirname(path);
  for (;;) {
    const pkg = readPackage(join(dir, "package.json"));
    if (pkg) return typeof pkg.version === "string" ? pkg.version : undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function readPackage(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
