// `clawgate doctor` for Slack: the bot token (auth.test), the scopes it carries (X-OAuth-Scopes), and the public
// https URL the Events API posts to.
import { describeFailure, failed, ok, publicUrlCheck, unreachable, warn } from "../sdk/doctor.ts";
import type { DoctorCheck, DoctorContext } from "../types.ts";
import { SlackApiError, SlackClient } from "./client.ts";
import type { SlackSettings } from "./config.ts";

/** Without these the bot cannot answer at all. */
const REQUIRED = ["chat:write"];
/** Without these one feature is missing: scope → what stops working. */
const WANTED: Record<string, string> = {
  "files:read": "pictures and files users send cannot be downloaded",
  "files:write": "pictures and files from the agent cannot be uploaded",
};
const SCOPE_FIX = (scopes: string[]) =>
  `add ${scopes.join(", ")} under OAuth & Permissions → Bot Token Scopes at api.slack.com/apps, reinstall the app and copy the new Bot User OAuth Token (xoxb-…) into channels.slack.botToken`;

export async function slackDoctor(s: SlackSettings, ctx: DoctorContext): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [
    publicUrlCheck({
      id: "slack.public-url",
      platform: "Slack",
      config: ctx.config,
      path: s.path,
      httpsRequired: true,
    }),
  ];
  let auth: Awaited<ReturnType<SlackClient["authScopes"]>>;
  try {
    auth = await new SlackClient(s.apiBase, s.botToken).authScopes();
  } catch (err) {
    const refused = err instanceof SlackApiError;
    out.push(
      failed(
        "slack.token",
        "Slack bot token",
        refused ? `auth.test refused the token: ${err.code}` : `cannot reach Slack: ${describeFailure(err)}`,
        refused
          ? "copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions into channels.slack.botToken (OPENCLAW_CONNECTOR_SLACK_BOT_TOKEN); reinstall the app if it was revoked"
          : unreachable(err)
            ? `check this host's network access to ${s.apiBase}`
            : "try again shortly",
      ),
    );
    return out;
  }
  out.push(
    ok("slack.token", "Slack bot token", `bot user ${auth.userId} in team ${auth.team ?? auth.teamId}`),
  );
  if (!auth.scopes) {
    out.push({
      id: "slack.scopes",
      title: "Slack scopes",
      status: "skip",
      detail: "Slack's answer did not list the token's scopes (X-OAuth-Scopes)",
    });
    return out;
  }
  const has = new Set(auth.scopes);
  const missing = REQUIRED.filter((x) => !has.has(x));
  const lacking = Object.keys(WANTED).filter((x) => !has.has(x));
  if (missing.length) {
    out.push(
      failed(
        "slack.scopes",
        "Slack scopes",
        `the token lacks ${missing.join(", ")}, so the bot cannot post answers`,
        SCOPE_FIX([...missing, ...lacking]),
      ),
    );
  } else if (lacking.length) {
    out.push(
      warn(
        "slack.scopes",
        "Slack scopes",
        `the token lacks ${lacking.join(", ")}: ${lacking.map((x) => WANTED[x]).join("; ")}`,
        SCOPE_FIX(lacking),
      ),
    );
  } else {
    out.push(ok("slack.scopes", "Slack scopes", auth.scopes.join(", ")));
  }
  return out;
}
