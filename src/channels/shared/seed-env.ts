// The OpenClaw connector's environment variables for a webhook channel, OPENCLAW_CONNECTOR_<PLATFORM>_*, turned
// into a `channels.<name>` section. Setting them also opens the seed's own listener (_BIND, _PORT), and every
// such channel takes _PATH and _API_BASE.
import { csv, type Env, envBool, envInt } from "../../config/env.ts";

export interface SeedEnvSpec {
  /** The channel counts as configured when any of these is set. */
  requiredAny: string[];
  /** Variable suffix → config key, copied (trimmed) when set. _PATH and _API_BASE are always included. */
  strings: Record<string, string>;
  /** Comma-separated lists (allowlists). */
  lists?: Record<string, string>;
  /** true/false switches. */
  bools?: Record<string, string>;
  defaultPort: number;
}

export function seedEnvSection(
  env: Env,
  platform: string,
  spec: SeedEnvSpec,
): Record<string, unknown> | undefined {
  const name = (suffix: string) => `OPENCLAW_CONNECTOR_${platform}_${suffix}`;
  const get = (suffix: string) => env[name(suffix)]?.trim() || undefined;
  if (!spec.requiredAny.some((s) => get(s))) return undefined;
  const out: Record<string, unknown> = {
    listen: { host: get("BIND") ?? "127.0.0.1", port: envInt(env, name("PORT")) ?? spec.defaultPort },
  };
  for (const [suffix, key] of Object.entries({ ...spec.strings, PATH: "path", API_BASE: "apiBase" })) {
    const v = get(suffix);
    if (v) out[key] = v;
  }
  for (const [suffix, key] of Object.entries(spec.lists ?? {})) {
    const v = csv(env[name(suffix)]);
    if (v) out[key] = v;
  }
  for (const [suffix, key] of Object.entries(spec.bools ?? {})) {
    const v = envBool(env[name(suffix)]);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
