// Where each effective setting came from, for the console's config page: a command-line flag, the environment
// (or the .env file beside the config), the config file, or the schema's default. Pure.

export type ConfigSource = "file" | "env" | "flag" | "default";

export interface ConfigLayers {
  file: unknown;
  env: unknown;
  flag: unknown;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function has(layer: unknown, path: string[]): boolean {
  let v = layer;
  for (const p of path) {
    if (!isPlainObject(v) || !(p in v)) return false;
    v = v[p];
  }
  return v !== undefined;
}

/** `{"server.port": "flag", "channels.telegram.botToken": "env", …}` for every leaf of the effective config. */
export function configSources(config: unknown, layers: ConfigLayers): Record<string, ConfigSource> {
  const out: Record<string, ConfigSource> = {};
  const stack: { v: unknown; path: string[] }[] = [{ v: config, path: [] }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (isPlainObject(v) && Object.keys(v).length > 0 && path.length < 32) {
      for (const [k, child] of Object.entries(v)) stack.push({ v: child, path: [...path, k] });
      continue;
    }
    if (path.length === 0) continue;
    out[path.join(".")] = has(layers.flag, path)
      ? "flag"
      : has(layers.env, path)
        ? "env"
        : has(layers.file, path)
          ? "file"
          : "default";
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}
