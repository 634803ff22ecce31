// Discord settings: `channels.discord` (shared defaults, the seed's env vars) and `channels.discord.accounts.<id>`
// (one bot application each).
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import type { ChannelSettingsSpec } from "../sdk/accounts.ts";
import { seedEnvSection } from "../shared/seed-env.ts";
import { idListSchema } from "../shared/settings.ts";

export const DEFAULT_DISCORD_API_BASE = "https://discord.com/api";

export const discordAccountSchema = z.object({
  token: z
    .string({
      error: "required: the bot token from the Developer Portal (or OPENCLAW_CONNECTOR_DISCORD_TOKEN)",
    })
    .min(20, "expected the bot token from the Developer Portal's Bot page"),
  allowedUsers: idListSchema,
  /** Guild channels the bot listens in (threads follow their parent). Empty: every channel it can read. */
  allowedChannels: idListSchema,
  /** In guild channels, answer only when mentioned or replied to. DMs are always addressed. */
  requireMention: z.boolean().default(true),
  /** Publish the gateway's chat commands as slash commands at start (a bulk overwrite of the application's set). */
  slashCommands: z.boolean().default(true),
  /** Publish them in these guilds only (they show up at once there); empty: globally, in every guild and DM. */
  commandGuilds: idListSchema,
  /** Default: OPENCLAW_CONNECTOR_DISCORD_API_BASE, else https://discord.com/api. */
  apiBase: z.url().optional(),
  /** How long the shard's store lease lasts without renewal (a crashed replica's shard is picked up after this). */
  leaseTtlMs: z.number().int().min(500).max(600_000).default(30_000),
  /** How long `clawgate start` waits for the gateway's READY (to report a bad token or intent at once). */
  readyTimeoutMs: z.number().int().min(1000).max(120_000).default(20_000),
});

export type DiscordAccountConfig = z.output<typeof discordAccountSchema> & { id: string; apiBase: string };

/** How `channels.discord` is read: one bot application per account; `botToken` is accepted for `token`. */
export const discordSettings = {
  name: "discord",
  settings: discordAccountSchema,
  multiAccount: true,
  aliases: { botToken: "token" },
  accountId: {
    pattern: /^[A-Za-z0-9_-]+$/,
    hint: "use letters, digits, _ and - only (it appears in session keys)",
  },
} satisfies ChannelSettingsSpec;

/** One account's settings with its id and API base (OPENCLAW_CONNECTOR_DISCORD_API_BASE when not set). */
export function discordAccountConfig(
  settings: z.output<typeof discordAccountSchema>,
  account: string,
  env: Env,
): DiscordAccountConfig {
  const apiBase =
    settings.apiBase || env.OPENCLAW_CONNECTOR_DISCORD_API_BASE?.trim() || DEFAULT_DISCORD_API_BASE;
  return { ...settings, apiBase: apiBase.replace(/\/+$/, ""), id: account };
}

/** The connector seed's variables. OPENCLAW_CONNECTOR_DISCORD_API_BASE is read per account (see apiBase). */
export function discordFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "DISCORD", {
    requiredAny: ["TOKEN"],
    strings: { TOKEN: "token" },
    lists: { ALLOWED_USERS: "allowedUsers", ALLOWED_CHANNELS: "allowedChannels" },
    common: false,
  });
}
