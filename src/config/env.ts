// Maps environment variables onto the config shape. Names come from the seeds: OCG_* (channel gateway),
// OPENCLAW_* (connector), plus clawgate's own CLAWGATE_*.
import { normalizeOverrides } from "../core/policy.ts";
import { ConfigError } from "./errors.ts";

export type Env = Record<string, string | undefined>;

/** A channel module's contribution: its seed env vars turned into a `channels.<name>` section. */
export type ChannelEnvMapper = (env: Env) => Record<string, unknown> | undefined;

export function csv(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

export function envBool(value: string | undefined): boolean | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return /^(1|true|yes|on)$/i.test(value.trim());
}

export function envInt(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) {
    throw new ConfigError(`environment variable ${name}`, [
      `${name}: expected a whole number, found "${raw}"`,
    ]);
  }
  return n;
}

export function envNumber(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) {
    throw new ConfigError(`environment variable ${name}`, [`${name}: expected a number, found "${raw}"`]);
  }
  return n;
}

/** Drops undefined leaves so a partial overlay never erases what the file set. */
export function compact<T extends Record<string, unknown>>(obj: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue;
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const inner = compact(v as Record<string, unknown>);
      if (Object.keys(inner).length > 0) out[k] = inner;
    } else out[k] = v;
  }
  return out as Partial<T>;
}

export function coreEnvOverlay(env: Env): Record<string, unknown> {
  let overrides: Record<string, string> | undefined;
  if (env.OPENCLAW_COMMAND_OVERRIDES?.trim()) {
    try {
      const parsed = JSON.parse(env.OPENCLAW_COMMAND_OVERRIDES);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      overrides = normalizeOverrides(parsed);
    } catch (err) {
      throw new ConfigError("environment variable OPENCLAW_COMMAND_OVERRIDES", [
        `OPENCLAW_COMMAND_OVERRIDES: expected a JSON object like {"run":"admin"}, found ${JSON.stringify(env.OPENCLAW_COMMAND_OVERRIDES)} (${(err as Error).message})`,
      ]);
    }
  }
  const verbose = envBool(env.OCG_VERBOSE) || envBool(env.OPENCLAW_CONNECTOR_DEBUG);
  return compact({
    agentUrl: env.OCG_AGENT_URL || undefined,
    model: env.OCG_MODEL || undefined,
    apiKey: env.OCG_API_KEY || undefined,
    verbose: verbose || undefined,
    logLevel: env.CLAWGATE_LOG_LEVEL || (verbose ? "debug" : undefined),
    dataDir: env.CLAWGATE_DATA_DIR || undefined,
    adminToken: env.CLAWGATE_ADMIN_TOKEN || env.OPENCLAW_ADMIN_TOKEN || undefined,
    server: {
      host: env.CLAWGATE_HOST || undefined,
      port: envInt(env, "CLAWGATE_PORT"),
      publicBaseUrl: env.CLAWGATE_PUBLIC_BASE_URL || env.OPENCLAW_CONNECTOR_PUBLIC_BASE_URL || undefined,
    },
    database: { url: env.CLAWGATE_DATABASE_URL || undefined },
    agent: {
      systemPrompt: env.CLAWGATE_SYSTEM_PROMPT || undefined,
      historyTurns: envInt(env, "CLAWGATE_HISTORY_TURNS"),
    },
    policy: {
      adminUsers: csv(env.OPENCLAW_CONNECTOR_ADMIN_USERS),
      overrides,
      allowFrom: {
        public: csv(env.OPENCLAW_COMMAND_ALLOW_FROM_PUBLIC),
        run: csv(env.OPENCLAW_COMMAND_ALLOW_FROM_RUN),
        admin: csv(env.OPENCLAW_COMMAND_ALLOW_FROM_ADMIN),
      },
    },
    media: {
      path: env.OPENCLAW_CONNECTOR_MEDIA_PATH || undefined,
      ttlSec: envInt(env, "OPENCLAW_CONNECTOR_MEDIA_TTL_SEC"),
      maxMb: envNumber(env, "OPENCLAW_CONNECTOR_MEDIA_MAX_MB"),
    },
    // CLAWCHATS_AUTH_TOKEN: the name ClawChats clients use for the same token.
    webchat: { token: env.CLAWGATE_WEBCHAT_TOKEN || env.CLAWCHATS_AUTH_TOKEN || undefined },
    bridge: {
      enabled: envBool(env.OPENCLAW_BRIDGE_ENABLED),
      deviceToken: env.OPENCLAW_BRIDGE_DEVICE_TOKEN || undefined,
      allowedDeviceIds: csv(env.OPENCLAW_BRIDGE_ALLOWED_DEVICE_IDS),
    },
  });
}
