// The OpenClaw connector's environment variables for a channel, OPENCLAW_CONNECTOR_<PLATFORM>_*, turned into a
// `channels.<name>` section: the one mapper every channel's env mapping goes through. For a webhook channel,
// setting them also opens the seed's own listener (_BIND, _PORT), and it takes _PATH and _API_BASE.
import { csv, type Env, envBool, envInt } from "../../config/env.ts";

export interface SeedEnvSpec {
  /** The channel counts as configured when any of these is set. */
  requiredAny: string[];
  /**
   * A variable that switches the channel on or off (Kakao's _ENABLED, which has no secret to key on): when set,
   * the section says `enabled`, and a false one is all it says.
   */
  enabledBy?: string;
  /** Variable suffix → config key, copied (trimmed) when set. _PATH and _API_BASE are always included. */
  strings: Record<string, string>;
  /** Comma-separated lists (allowlists). */
  lists?: Record<string, string>;
  /** true/false switches. */
  bools?: Record<string, string>;
  /** The seed's own listener's default port; leave out for channels without one (long polling, sockets). */
  defaultPort?: number;
  /** _PATH and _API_BASE are mapped (webhook channels); false leaves them to the channel. */
  common?: boolean;
}

export function seedEnvSection(
  env: Env,
  platform: string,
  spec: SeedEnvSpec,
): Record<string, unknown> | undefined {
  const name = (suffix: string) => `OPENCLAW_CONNECTOR_${platform}_${suffix}`;
  const get = (suffix: string) => env[name(suffix)]?.trim() || undefined;
  if (!spec.requiredAny.some((s) => get(s))) return undefined;
  const out: Record<string, unknown> = {};
  if (spec.enabledBy) {
    out.enabled = envBool(env[name(spec.enabledBy)]) ?? false;
    if (!out.enabled) return out;
  }
  if (spec.defaultPort !== undefined) {
    out.listen = { host: get("BIND") ?? "127.0.0.1", port: envInt(env, name("PORT")) ?? spec.defaultPort };
  }
  const common = spec.common === false ? {} : { PATH: "path", API_BASE: "apiBase" };
  for (const [suffix, key] of Object.entries({ ...spec.strings, ...common })) {
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
