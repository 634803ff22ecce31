// `clawgate doctor` for one Discord bot: the token (GET /users/@me) and the MESSAGE CONTENT intent the gateway
// connection asks for (the application's flags), which Discord otherwise refuses with close code 4014.
import { describeFailure, failed, ok, settingsKey, unreachable, warn } from "../sdk/doctor.ts";
import type { DoctorCheck, DoctorContext } from "../types.ts";
import { DiscordClient, DiscordRefusedError } from "./client.ts";
import type { DiscordAccountConfig } from "./config.ts";

/** Application flags: GATEWAY_MESSAGE_CONTENT (verified apps) and GATEWAY_MESSAGE_CONTENT_LIMITED (under 100 guilds). */
const MESSAGE_CONTENT = (1 << 18) | (1 << 19);

export async function discordDoctor(cfg: DiscordAccountConfig, _ctx: DoctorContext): Promise<DoctorCheck[]> {
  const id = `discord.${cfg.id}`;
  const client = new DiscordClient({ token: cfg.token, apiBase: cfg.apiBase });
  try {
    const me = await client.me();
    const out = [ok(`${id}.token`, "Discord bot token", `${me.username} (id ${me.id})`)];
    const app = await client.application().catch(() => undefined);
    if (app?.flags !== undefined) {
      out.push(
        app.flags & MESSAGE_CONTENT
          ? ok(`${id}.intents`, "Discord intents", "MESSAGE CONTENT intent is on; DMs use DIRECT_MESSAGES")
          : warn(
              `${id}.intents`,
              "Discord intents",
              "the MESSAGE CONTENT intent is off: Discord closes the gateway connection (4014) and the bot receives nothing",
              "Developer Portal → your application → Bot → Privileged Gateway Intents: enable MESSAGE CONTENT INTENT",
            ),
      );
    }
    return out;
  } catch (err) {
    const refused = err instanceof DiscordRefusedError && err.status === 401;
    return [
      failed(
        `${id}.token`,
        "Discord bot token",
        refused
          ? "Discord refused the bot token (401 Unauthorized)"
          : `cannot reach Discord: ${describeFailure(err)}`,
        refused
          ? `reset the token on the Developer Portal's Bot page and put it in ${settingsKey("discord", cfg.id)}.token or OPENCLAW_CONNECTOR_DISCORD_TOKEN`
          : unreachable(err) && !(err instanceof DiscordRefusedError)
            ? `check this host's network access to ${cfg.apiBase}`
            : "try again shortly",
      ),
    ];
  }
}
