// LINE settings: `channels.line` in clawgate.json, or the connector seed's OPENCLAW_CONNECTOR_LINE_* variables.
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import { seedEnvSection } from "../shared/seed-env.ts";
import {
  apiBaseSchema,
  bodyLimitSchema,
  idArraySchema,
  numericListenSchema,
  requiredString,
  webhookPathSchema,
} from "../shared/settings.ts";

export const LINE_DEFAULTS = {
  port: 8099,
  path: "/line/webhook",
  apiBase: "https://api.line.me",
  dataApiBase: "https://api-data.line.me",
};

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
  /** Where LINE serves the content of images, videos, audio and files users send (a separate host from apiBase). */
  dataApiBase: apiBaseSchema(LINE_DEFAULTS.dataApiBase),
  bodyLimitBytes: bodyLimitSchema,
});

export type LineSettings = z.output<typeof lineSettingsSchema>;

/** OPENCLAW_CONNECTOR_LINE_*: configuring LINE this way also opens the seed's own listener (default :8099). */
export function lineFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "LINE", {
    requiredAny: ["CHANNEL_SECRET", "CHANNEL_ACCESS_TOKEN"],
    strings: {
      CHANNEL_SECRET: "channelSecret",
      CHANNEL_ACCESS_TOKEN: "channelAccessToken",
      DATA_API_BASE: "dataApiBase",
    },
    lists: { ALLOWED_USERS: "allowedUsers", ALLOWED_GROUPS: "allowedGroups" },
    bools: { REQUIRE_MENTION: "requireMention" },
    defaultPort: LINE_DEFAULTS.port,
  });
}
