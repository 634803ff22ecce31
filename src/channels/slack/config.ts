// Slack settings: `channels.slack` in clawgate.json, or the connector seed's OPENCLAW_CONNECTOR_SLACK_* variables.
// Validated here because `channels.<name>` is a loose object in the core schema.
import { z } from "zod";
import { csv, type Env, envBool, envInt } from "../../config/env.ts";
import { ConfigError, formatIssues } from "../../config/errors.ts";
import type { ChannelSection } from "../../config/schema.ts";

/** A setting that must be present: the message says where to find it. */
const required = (where: string) => z.string({ error: `required: ${where}` }).min(1, `required: ${where}`);

export const SLACK_DEFAULTS = { port: 8095, path: "/slack/events", apiBase: "https://slack.com/api" };

const ids = z.array(z.union([z.string(), z.number()]).transform((v) => String(v).trim())).default([]);
const path = z.string().regex(/^\/[^\s?#]*$/, "must start with / and contain no spaces, ? or #");

export const slackSettingsSchema = z.object({
  botToken: required("the Bot User OAuth Token (xoxb-…) from OAuth & Permissions"),
  signingSecret: required("the Signing Secret from Basic Information → App Credentials"),
  allowedUsers: ids,
  allowedChannels: ids,
  path: path.default(SLACK_DEFAULTS.path),
  /** Block Kit button presses; Slack's Interactivity Request URL may also point at `path`. */
  interactivityPath: path.default("/slack/interactivity"),
  /** Own listener (the seed's _BIND/_PORT); without it the routes live on the main listener only. */
  listen: z
    .object({ host: z.string().min(1).default("127.0.0.1"), port: z.number().int().min(0).max(65535) })
    .optional(),
  requireMention: z.boolean().default(true),
  replyInThread: z.boolean().default(true),
  apiBase: z
    .url()
    .default(SLACK_DEFAULTS.apiBase)
    .transform((u) => u.replace(/\/+$/, "")),
  /** The bot's own user id; learned from events and auth.test when not set. */
  botUserId: z.string().optional(),
  bodyLimitBytes: z.number().int().min(1024).max(10_485_760).default(1_048_576),
});

export type SlackSettings = z.output<typeof slackSettingsSchema>;

export function slackSettings(section: ChannelSection): SlackSettings {
  const { enabled: _e, accounts: _a, agentUrl: _u, model: _m, dmPolicy: _d, ...raw } = section;
  const parsed = slackSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError("channels.slack", formatIssues(parsed.error.issues, raw, ["channels", "slack"]));
  }
  return parsed.data;
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
