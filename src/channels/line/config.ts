// LINE settings: `channels.line` in clawgate.json, or the connector seed's OPENCLAW_CONNECTOR_LINE_* variables.
import { z } from "zod";
import { csv, type Env, envBool, envInt } from "../../config/env.ts";
import type { ChannelSection } from "../../config/schema.ts";
import { sectionSettings } from "../shared/accounts.ts";
import {
  apiBaseSchema,
  bodyLimitSchema,
  idArraySchema,
  numericListenSchema,
  requiredString,
  webhookPathSchema,
} from "../shared/settings.ts";

export const LINE_DEFAULTS = { port: 8099, path: "/line/webhook", apiBase: "https://api.line.me" };

export const lineSettingsSchema = z.object({
  channelSecret: requiredString("the Channel secret from the LINE Developers Console (Basic settings)"),
  channelAccessToken: requiredString("a long-lived Channel access token (Messaging API tab)"),
  allowedUsers: idArraySchema,
  allowedGroups: idArraySchema,
  path: webhookPathSchema.default(LINE_DEFAULTS.path),
  listen: numericListenSchema,
  /** In groups and rooms, answer only messages that mention the bot. */
  requireMention: z.boolean().default(false),
  apiBase: apiBaseSchema(LINE_DEFAULTS.apiBase),
  bodyLimitBytes: bodyLimitSchema,
});

export type LineSettings = z.output<typeof lineSettingsSchema>;

export function lineSettings(section: ChannelSection): LineSettings {
  return sectionSettings("line", section, lineSettingsSchema);
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
