// Slack settings: `channels.slack` in clawgate.json, or the connector seed's OPENCLAW_CONNECTOR_SLACK_* variables.
// The config schema validates them with slackSettingsSchema (src/config/channels-schema.ts).
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

export const SLACK_DEFAULTS = { port: 8095, path: "/slack/events", apiBase: "https://slack.com/api" };

export const slackSettingsSchema = z.object({
  botToken: requiredString("the Bot User OAuth Token (xoxb-…) from OAuth & Permissions"),
  signingSecret: requiredString("the Signing Secret from Basic Information → App Credentials"),
  allowedUsers: idArraySchema,
  allowedChannels: idArraySchema,
  path: webhookPathSchema.default(SLACK_DEFAULTS.path),
  /** Block Kit button presses; Slack's Interactivity Request URL may also point at `path`. */
  interactivityPath: webhookPathSchema.default("/slack/interactivity"),
  /** Own listener (the seed's _BIND/_PORT); without it the routes live on the main listener only. */
  listen: numericListenSchema,
  requireMention: z.boolean().default(true),
  replyInThread: z.boolean().default(true),
  apiBase: apiBaseSchema(SLACK_DEFAULTS.apiBase),
  /** The bot's own user id; learned from events and auth.test when not set. */
  botUserId: z.string().optional(),
  bodyLimitBytes: bodyLimitSchema,
});

export type SlackSettings = z.output<typeof slackSettingsSchema>;

/** OPENCLAW_CONNECTOR_SLACK_*: configuring Slack this way also opens the seed's own listener (default :8095). */
export function slackFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "SLACK", {
    requiredAny: ["BOT_TOKEN", "SIGNING_SECRET"],
    strings: { BOT_TOKEN: "botToken", SIGNING_SECRET: "signingSecret" },
    lists: { ALLOWED_USERS: "allowedUsers", ALLOWED_CHANNELS: "allowedChannels" },
    bools: { REQUIRE_MENTION: "requireMention", REPLY_IN_THREAD: "replyInThread" },
    defaultPort: SLACK_DEFAULTS.port,
  });
}
