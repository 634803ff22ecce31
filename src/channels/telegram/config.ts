// Telegram settings: `channels.telegram` (shared defaults, the seed's env vars) and `channels.telegram.accounts.<id>`
// (one bot each). The config schema validates them with telegramAccountSchema (src/config/channels-schema.ts).
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import type { ChannelSection } from "../../config/schema.ts";
import { type ChannelSettingsSpec, channelAccounts } from "../sdk/accounts.ts";
import { seedEnvSection } from "../shared/seed-env.ts";
import { idListSchema } from "../shared/settings.ts";

export const DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org";

export const telegramAccountSchema = z
  .object({
    botToken: z
      .string({ error: "required: the bot token from @BotFather (or OPENCLAW_CONNECTOR_TELEGRAM_TOKEN)" })
      .regex(/^\d+:[A-Za-z0-9_-]+$/, "expected a bot token like 123456:ABC-DEF… from @BotFather"),
    allowedUsers: idListSchema,
    allowedChats: idListSchema,
    /** "polling" (default: no public URL needed) or "webhook" (Telegram calls us; needs webhookSecret). */
    mode: z.enum(["polling", "webhook"]).default("polling"),
    /** Sent by Telegram in X-Telegram-Bot-Api-Secret-Token; 1–256 of A-Z a-z 0-9 _ -. */
    webhookSecret: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, "1–256 characters of A-Z, a-z, 0-9, _ and -")
      .optional(),
    webhookPath: z.string().startsWith("/").optional(),
    /** In groups, answer only when mentioned, replied to, or sent /cmd@thisbot. */
    requireMention: z.boolean().default(true),
    /** Default: OPENCLAW_CONNECTOR_TELEGRAM_API_BASE, else https://api.telegram.org. */
    apiBase: z.url().optional(),
    /** Long-poll wait in seconds (Telegram allows up to 50). */
    pollTimeoutSec: z.number().int().min(0).max(50).default(25),
    /** "HTML": Markdown from the agent is shown formatted; "none": plain text. */
    format: z.enum(["HTML", "none"]).default("HTML"),
    /** How long the poller's store lease lasts without renewal (a crashed replica's bot is picked up after this). */
    leaseTtlMs: z.number().int().min(500).max(600_000).default(30_000),
    /** Publish the gateway's commands with setMyCommands (only when the list changed). */
    setCommands: z.boolean().default(true),
  })
  .superRefine((s, ctx) => {
    if (s.mode === "webhook" && !s.webhookSecret) {
      ctx.addIssue({
        code: "custom",
        path: ["webhookSecret"],
        message:
          "required in webhook mode, so only Telegram can post updates (1–256 characters of A-Z a-z 0-9 _ -)",
      });
    }
  });

export type TelegramAccountConfig = z.output<typeof telegramAccountSchema> & { id: string; apiBase: string };

/** How `channels.telegram` is read: one bot per account; the seed's `token` spelling means botToken. */
export const telegramSettings = {
  name: "telegram",
  settings: telegramAccountSchema,
  multiAccount: true,
  aliases: { token: "botToken" },
  accountId: {
    pattern: /^[A-Za-z0-9_-]+$/,
    hint: "use letters, digits, _ and - only (it appears in session keys and URLs)",
  },
} satisfies ChannelSettingsSpec;

/** One account's settings with its id and API base (OPENCLAW_CONNECTOR_TELEGRAM_API_BASE when not set). */
export function telegramAccountConfig(
  settings: z.output<typeof telegramAccountSchema>,
  account: string,
  env: Env,
): TelegramAccountConfig {
  const apiBase =
    settings.apiBase || env.OPENCLAW_CONNECTOR_TELEGRAM_API_BASE?.trim() || DEFAULT_TELEGRAM_API_BASE;
  return { ...settings, apiBase, id: account };
}

/** Every enabled account, validated (for callers holding a raw section: `clawgate telegram`). */
export function telegramAccounts(section: ChannelSection, env: Env): TelegramAccountConfig[] {
  return channelAccounts(telegramSettings, section).map(({ account, settings }) =>
    telegramAccountConfig(settings, account, env),
  );
}

/** The connector seed's variables. OPENCLAW_CONNECTOR_TELEGRAM_API_BASE is read per account (see apiBase). */
export function telegramFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "TELEGRAM", {
    requiredAny: ["TOKEN"],
    strings: { TOKEN: "botToken" },
    lists: { ALLOWED_USERS: "allowedUsers", ALLOWED_CHATS: "allowedChats" },
    common: false,
  });
}
