// `clawgate channels telegram set-webhook | delete-webhook | webhook-info`: switch a bot between long polling
// and webhook delivery. Telegram allows one or the other: while a webhook is set, getUpdates answers 409.
import type { Command } from "commander";
import { TelegramClient, telegramDescription } from "../channels/telegram/client.ts";
import type { TelegramAccountConfig } from "../channels/telegram/config.ts";
import { telegramAccounts } from "../channels/telegram/config.ts";
import { ConfigError } from "../config/errors.ts";
import { fail, loadWithPlugins } from "./context.ts";

/** Adds `telegram` under `clawgate channels` (creating `channels` when no other module has yet). */
export function registerTelegramCli(program: Command) {
  const channels =
    program.commands.find((c) => c.name() === "channels") ??
    program.command("channels").description("chat channel accounts");
  const tg = channels.command("telegram").description("Telegram bot settings held by Telegram itself");

  tg.command("set-webhook")
    .description("deliver this bot's updates to clawgate's webhook instead of long polling")
    .option(
      "--url <url>",
      "public HTTPS URL of the webhook (default: server.publicBaseUrl + the account's path)",
    )
    .option("--account <id>", "which bot (channels.telegram.accounts.<id>)", "default")
    .action(async (o: { url?: string; account: string }, cmd: Command) => {
      const { acc, client, config } = await account(cmd, o.account);
      if (!acc.webhookSecret) {
        fail(
          `account "${acc.id}" has no webhookSecret. Add channels.telegram${acc.id === "default" ? "" : `.accounts.${acc.id}`}.webhookSecret (1–256 of A-Z a-z 0-9 _ -) first, so only Telegram can post to the webhook.`,
        );
      }
      const path = acc.webhookPath ?? `/telegram/${acc.id}/webhook`;
      const base = config.server.publicBaseUrl?.replace(/\/+$/, "");
      const url = o.url ?? (base ? `${base}${path}` : undefined);
      if (!url) fail(`give --url https://your.host${path}, or set server.publicBaseUrl in clawgate.json`);
      if (!/^https?:\/\//.test(url)) fail(`--url must be an http(s) URL, got "${url}"`);
      await call(() => client.setWebhook(url, acc.webhookSecret!));
      console.log(`Webhook set for account "${acc.id}": ${url}`);
      if (acc.mode !== "webhook") {
        console.log(
          `Note: account "${acc.id}" is in polling mode; set "mode": "webhook" and restart clawgate, or polling will report 409 Conflict.`,
        );
      }
    });

  tg.command("delete-webhook")
    .description("stop webhook delivery (pending updates are kept) so long polling can take over")
    .option("--account <id>", "which bot (channels.telegram.accounts.<id>)", "default")
    .action(async (o: { account: string }, cmd: Command) => {
      const { acc, client } = await account(cmd, o.account);
      await call(() => client.deleteWebhook());
      console.log(`Webhook deleted for account "${acc.id}"; pending updates are kept for long polling.`);
    });

  tg.command("webhook-info")
    .description("show where Telegram delivers this bot's updates and how many are pending")
    .option("--account <id>", "which bot (channels.telegram.accounts.<id>)", "default")
    .action(async (o: { account: string }, cmd: Command) => {
      const { client } = await account(cmd, o.account);
      const info = await call(() => client.getWebhookInfo());
      console.log(JSON.stringify(info, null, 2));
    });
}

async function account(cmd: Command, id: string) {
  const { config, env } = await loadWithPlugins(cmd);
  const section = config.channels.telegram;
  if (!section)
    fail("no Telegram bot is configured: set OPENCLAW_CONNECTOR_TELEGRAM_TOKEN or channels.telegram");
  let accounts: TelegramAccountConfig[];
  try {
    accounts = telegramAccounts(section, env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const acc = accounts.find((a) => a.id === id);
  if (!acc)
    fail(`no Telegram account "${id}"; configured: ${accounts.map((a) => a.id).join(", ") || "none"}`);
  return { acc, config, client: new TelegramClient({ token: acc.botToken, apiBase: acc.apiBase }) };
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    fail(`Telegram refused: ${telegramDescription(err)}`);
  }
}
