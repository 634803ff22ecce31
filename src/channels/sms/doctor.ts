// `clawgate doctor` for Twilio SMS: the account SID and auth token (GET Accounts/{sid}.json), and the public URL
// Twilio calls and signs.
import {
  describeFailure,
  failed,
  ok,
  publicUrlCheck,
  settingsKey,
  unreachable,
  warn,
} from "../sdk/doctor.ts";
import { PlatformClientError } from "../shared/platform-fetch.ts";
import type { DoctorCheck, DoctorContext } from "../types.ts";
import { TwilioClient } from "./client.ts";
import type { SmsSettings } from "./index.ts";

export async function smsDoctor(s: SmsSettings, ctx: DoctorContext, path: string): Promise<DoctorCheck[]> {
  const id = `sms.${ctx.account}`;
  const key = settingsKey("sms", ctx.account);
  const out: DoctorCheck[] = [];
  const url = publicUrlCheck({
    id: `${id}.public-url`,
    platform: "Twilio",
    config: ctx.config,
    path,
    httpsRequired: false,
    explicit: s.publicUrl,
    explicitKey: `${key}.publicUrl`,
  });
  out.push(
    url.status === "ok" && !url.detail.startsWith("https://")
      ? warn(
          url.id,
          url.title,
          `${url.detail} is plain http: messages and their signatures cross the internet unencrypted`,
          "serve the webhook over https (a TLS proxy in front of the gateway) and update the URL in Twilio and here",
        )
      : url,
  );
  const title = "Twilio account";
  try {
    const acc = await new TwilioClient(s.apiBase, s.accountSid, s.authToken).account();
    out.push(
      acc.status && acc.status !== "active"
        ? failed(
            `${id}.account`,
            title,
            `the Twilio account ${acc.sid} is ${acc.status}, so Twilio sends nothing`,
            "reactivate the account in the Twilio console (Billing / account status)",
          )
        : ok(`${id}.account`, title, `${acc.friendly_name ?? acc.sid} (${acc.status ?? "active"})`),
    );
  } catch (err) {
    const refused = err instanceof PlatformClientError && (err.status === 401 || err.status === 404);
    const said = (err as PlatformClientError).body as { code?: number; message?: string } | undefined;
    out.push(
      failed(
        `${id}.account`,
        title,
        refused
          ? `Twilio refused the account SID and auth token (HTTP ${(err as PlatformClientError).status}${said?.code ? `, error ${said.code} ${said.message ?? ""}`.trimEnd() : ""})`
          : `cannot reach Twilio: ${describeFailure(err)}`,
        refused
          ? `copy the Account SID and Auth Token from the Twilio console (Account info) into ${key}.accountSid and .authToken (OPENCLAW_CONNECTOR_SMS_ACCOUNT_SID / _AUTH_TOKEN)`
          : unreachable(err)
            ? `check this host's network access to ${s.apiBase}`
            : "try again shortly",
      ),
    );
  }
  return out;
}
