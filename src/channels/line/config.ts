// LINE settings: `channels.line` in clawgate.json, or the connector seed's OPENCLAW_CONNECTOR_LINE_* variables.
import { z } from "zod";
import { csv, type Env, envBool, envInt } from "../../config/env.ts";
import { ConfigError, formatIssues } from "../../config/errors.ts";
import type { ChannelSection } from "../../config/schema.ts";

/** A setting that must be present: the message says where to find it. */
const required = (where: string) => z.string({ error: `required: ${where}` }).min(1, `required: ${where}`);

export const LINE_DEFAULTS = { port: 8099, path: "/line/webhook", apiBase: "https://api.line.me" };

const ids = z.array(z.union([z.string(), z.number()]).transform((v) => String(v).trim())).default([]);

export const lineSettingsSchema = z.object({
  channelSecret: required("the Channel secret from the LINE Developers Console (Basic settings)"),
  channelAccessToken: required("a long-lived Channel access token (Messaging API tab)"),
  allowedUsers: ids,
  allowedGroups: ids,
  path: z
    .string()
    .regex(/^\/[^\s?#]*$/, "must start with / and contain no spaces, ? or #")
    .default(LINE_DEFAULTS.path),
  listen: z
    .object({ host: z.string().min(1).default("127.0.0.1"), port: z.number().int().min(0).max(65535) })
    .optional(),
  /** In groups and rooms, answer only messages that mention the bot. */
  requireMention: z.boolean().default(false),
  apiBase: z
    .url()
    .default(LINE_DEFAULTS.apiBase)
    .transform((u) => u.replace(/\/+$/, "")),
  bodyLimitBytes: z.number().int().min(1024).max(10_485_760).default(1_048_576),
});

export type LineSettings = z.output<typeof lineSettingsSchema>;

export function lineSettings(section: ChannelSection): LineSettings {
  const { enabled: _e, accounts: _a, agentUrl: _u, model: _m, dmPolicy: _d, ...raw } = section;
  const parsed = lineSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError("channels.line", formatIssues(parsed.error.issues, raw, ["channels", "line"]));
  }
  return parsed.data;
}

/** OPENCLAW_CONNECTOR_LINE_*: configuring LINE this way also opens the seed's own listener (default :8099). */
export function lineFromEnv(env: Env): Record<string, unknown> | undefined {
  const secret = env.OPENCLAW_CONNECTOR_LINE_CHANNEL_SECRET?.trim();
  const token = env.OPENCLAW_CONNECTOR_LINE_CHANNEL_ACCESS_TOKEN?.trim();
  if (!secret && !token) return undefined;
  const out: Record<string, unknown> = {
    listen: {
      host: env.OPENCLAW_CONNECTOR_LINE_BIND?.trim() || "127.0.0.1",
      port: envInt(env, "OPENCLAW_CONNECTOR_LINE_PORT") ?? LINE_DEFAULTS.port,
    },
  };
  if (secret) out.channelSecret = secret;
  if (token) out.channelAccessToken = token;
  const users = csv(env.OPENCLAW_CONNECTOR_LINE_ALLOWED_USERS);
  const groups = csv(env.OPENCLAW_CONNECTOR_LINE_ALLOWED_GROUPS);
  if (users) out.allowedUsers = users;
  if (groups) out.allowedGroups = groups;
  if (env.OPENCLAW_CONNECTOR_LINE_PATH?.trim()) out.path = env.OPENCLAW_CONNECTOR_LINE_PATH.trim();
  const mention = envBool(env.OPENCLAW_CONNECTOR_LINE_REQUIRE_MENTION);
  if (mention !== undefined) out.requireMention = mention;
  if (env.OPENCLAW_CONNECTOR_LINE_API_BASE?.trim()) out.apiBase = env.OPENCLAW_CONNECTOR_LINE_API_BASE.trim();
  return out;
}
