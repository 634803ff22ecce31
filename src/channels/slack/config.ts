// Slack settings: `channels.slack` in clawgate.json, or the connector seed's OPENCLAW_CONNECTOR_SLACK_* variables.
// Validated here because `channels.<name>` is a loose object in the core schema.
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

export function slackSettings(section: ChannelSection): SlackSettings {
  return sectionSettings("slack", section, slackSettingsSchema);
}

/** OPENCLAW_CONNECTOR_SLACK_*: configuring Slack this way also opens the seed's own listener (default :8095). */
export function slackFromEnv(env: Env): Record<string, unknown> | undefined {
  const token = env.OPENCLAW_CONNECTOR_SLACK_BOT_TOKEN?.trim();
  const secret = env.OPENCLAW_CONNECTOR_SLACK_SIGNING_SECRET?.trim();
  if (!token && !secret) return undefined;
  const out: Record<string, unknown> = {
    listen: {
      host: env.OPENCLAW_CONNECTOR_SLACK_BIND?.trim() || "127.0.0.1",
      port: envInt(env, "OPENCLAW_CONNECTOR_SLACK_PORT") ?? SLACK_DEFAULTS.port,
    },
  };
  if (token) out.botToken = token;
  if (secret) out.signingSecret = secret;
  const users = csv(env.OPENCLAW_CONNECTOR_SLACK_ALLOWED_USERS);
  const channels = csv(env.OPENCLAW_CONNECTOR_SLACK_ALLOWED_CHANNELS);
  if (users) out.allowedUsers = users;
  if (channels) out.allowedChannels = channels;
  if (env.OPENCLAW_CONNECTOR_SLACK_PATH?.trim()) out.path = env.OPENCLAW_CONNECTOR_SLACK_PATH.trim();
  const mention = envBool(env.OPENCLAW_CONNECTOR_SLACK_REQUIRE_MENTION);
  const thread = envBool(env.OPENCLAW_CONNECTOR_SLACK_REPLY_IN_THREAD);
  if (mention !== undefined) out.requireMention = mention;
  if (thread !== undefined) out.replyInThread = thread;
  if (env.OPENCLAW_CONNECTOR_SLACK_API_BASE?.trim())
    out.apiBase = env.OPENCLAW_CONNECTOR_SLACK_API_BASE.trim();
  return out;
}
