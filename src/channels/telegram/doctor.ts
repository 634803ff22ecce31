// `clawgate doctor` for one Telegram bot: the token (getMe), and where Telegram delivers its updates
// (getWebhookInfo) against the mode the account runs in.
import {
  describeFailure,
  failed,
  ok,
  publicUrlCheck,
  publicUrlFor,
  settingsKey,
  unreachable,
  warn,
} from "../sdk/doctor.ts";
import type { DoctorCheck, DoctorContext } from "../types.ts";
import { isStatus, TelegramClient, telegramDescription } from "./client.ts";
import type { TelegramAccountConfig } from "./config.ts";

export async function telegramDoctor(cfg: TelegramAccountConfig, ctx: DoctorContext): Promise<DoctorCheck[]> {
  const id = `telegram.${cfg.id}`;
  const key = settingsKey("telegram", cfg.id);
  const client = new TelegramClient({ token: cfg.botToken, apiBase: cfg.apiBase });
  const flag = cfg.id === "default" ? "" : ` --account ${cfg.id}`;
  const path = cfg.webhookPath ?? `/telegram/${cfg.id}/webhook`;
  const expected = publicUrlFor(ctx.config, path);
  const out: DoctorCheck[] = [];
  if (cfg.mode === "webhook") {
    const httpsRequired = true;
    out.push(
      publicUrlCheck({
        id: `${id}.public-url`,
        platform: "Telegram",
        config: ctx.config,
        path,
        httpsRequired,
      }),
    );
  }
  try {
    const me = await client.getMe();
    out.push(ok(`${id}.token`, "Telegram bot token", `@${me.username ?? "?"} (id ${me.id})`));
  } catch (err) {
    if (isStatus(err, 401) || isStatus(err, 404)) {
      out.push(
        failed(
          `${id}.token`,
          "Telegram bot token",
          `Telegram refused the bot token (${telegramDescription(err)})`,
          `copy the token again from @BotFather (/mybots → API Token) into ${key}.botToken or OPENCLAW_CONNECTOR_TELEGRAM_TOKEN`,
        ),
      );
    } else {
      out.push(
        failed(
          `${id}.token`,
          "Telegram bot token",
          `cannot reach Telegram at ${cfg.apiBase}: ${describeFailure(err)}`,
          unreachable(err)
            ? `check this host's network access to ${cfg.apiBase} (proxy, firewall, DNS) or ${key}.apiBase`
            : "try again shortly",
        ),
      );
    }
    return out;
  }

  let info: Awaited<ReturnType<TelegramClient["getWebhookInfo"]>>;
  try {
    info = await client.getWebhookInfo();
  } catch (err) {
    out.push(
      failed(
        `${id}.webhook`,
        "Telegram webhook",
        `getWebhookInfo failed: ${describeFailure(err)}`,
        "try again shortly",
      ),
    );
    return out;
  }
  const pending = `${info.pending_update_count} update(s) waiting`;
  const title = "Telegram webhook";
  if (cfg.mode === "polling") {
    out.push(
      info.url
        ? failed(
            `${id}.webhook`,
            title,
            `a webhook is set (${info.url}), so Telegram refuses long polling (409 Conflict) and this bot receives nothing`,
            `delete the webhook (deleteWebhook): clawgate channels telegram delete-webhook${flag}; pending updates are kept`,
          )
        : ok(`${id}.webhook`, title, `long polling; no webhook set; ${pending}`),
    );
    return out;
  }
  if (!info.url) {
    out.push(
      failed(
        `${id}.webhook`,
        title,
        "no webhook is registered, so Telegram delivers nothing to this gateway",
        `register it: clawgate channels telegram set-webhook${flag}`,
      ),
    );
  } else if (expected && info.url !== expected) {
    out.push(
      failed(
        `${id}.webhook`,
        title,
        `Telegram delivers to ${info.url}, not to ${expected}`,
        `point it here: clawgate channels telegram set-webhook${flag}`,
      ),
    );
  } else if (info.last_error_message) {
    out.push(
      warn(
        `${id}.webhook`,
        title,
        `Telegram's last delivery to ${info.url} failed: ${info.last_error_message}; ${pending}`,
        "check that the URL reaches this gateway from the internet (TLS certificate, proxy, firewall)",
      ),
    );
  } else {
    out.push(ok(`${id}.webhook`, title, `${info.url}; ${pending}`));
  }
  return out;
}
