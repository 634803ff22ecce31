// `clawgate doctor` for LINE: the channel access token (bot info), and the webhook URL set in the LINE console
// against this gateway's public https URL.

import { describeFailure, failed, ok, publicUrlCheck, publicUrlFor, unreachable } from "../sdk/doctor.ts";
import { PlatformClientError } from "../shared/platform-fetch.ts";
import type { DoctorCheck, DoctorContext } from "../types.ts";
import { LineClient } from "./client.ts";
import type { LineSettings } from "./config.ts";

const CONSOLE = "LINE Developers Console → your channel → Messaging API";

export async function lineDoctor(s: LineSettings, ctx: DoctorContext): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [
    publicUrlCheck({
      id: "line.public-url",
      platform: "LINE",
      config: ctx.config,
      path: s.path,
      httpsRequired: true,
    }),
  ];
  const client = new LineClient(s.apiBase, s.channelAccessToken);
  try {
    const bot = await client.botInfo();
    out.push(
      ok(
        "line.token",
        "LINE channel access token",
        `${bot.displayName ?? "bot"} (${bot.basicId ?? bot.userId})`,
      ),
    );
  } catch (err) {
    const refused = err instanceof PlatformClientError && err.status === 401;
    out.push(
      failed(
        "line.token",
        "LINE channel access token",
        refused
          ? "LINE refused the channel access token (401)"
          : `cannot reach LINE: ${describeFailure(err)}`,
        refused
          ? `issue a long-lived channel access token (${CONSOLE} → Channel access token) and put it in channels.line.channelAccessToken or OPENCLAW_CONNECTOR_LINE_CHANNEL_ACCESS_TOKEN`
          : unreachable(err)
            ? `check this host's network access to ${s.apiBase}`
            : "try again shortly",
      ),
    );
    return out;
  }
  let hook: { endpoint: string; active: boolean };
  try {
    hook = await client.webhookEndpoint();
  } catch (err) {
    out.push(failed("line.webhook", "LINE webhook", describeFailure(err), "try again shortly"));
    return out;
  }
  const expected = publicUrlFor(ctx.config, s.path);
  if (expected && hook.endpoint !== expected) {
    out.push(
      failed(
        "line.webhook",
        "LINE webhook",
        `LINE posts to ${hook.endpoint || "(no webhook URL)"}, not to ${expected}`,
        `set Webhook URL to ${expected} in ${CONSOLE} → Webhook settings`,
      ),
    );
  } else if (!hook.active) {
    out.push(
      failed(
        "line.webhook",
        "LINE webhook",
        `the webhook ${hook.endpoint} is set but "Use webhook" is off, so LINE sends nothing`,
        `turn on "Use webhook" in ${CONSOLE} → Webhook settings`,
      ),
    );
  } else {
    out.push(ok("line.webhook", "LINE webhook", `${hook.endpoint} (in use)`));
  }
  return out;
}
