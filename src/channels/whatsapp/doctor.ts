// `clawgate doctor` for WhatsApp Cloud: the access token and phone number id together (GET /{version}/{id}), and
// the public https URL Meta posts webhooks to.
import { describeFailure, failed, ok, publicUrlCheck, unreachable } from "../sdk/doctor.ts";
import { PlatformClientError } from "../shared/platform-fetch.ts";
import { type DoctorCheck, type DoctorContext, PermanentDeliveryError } from "../types.ts";
import { WhatsappClient } from "./client.ts";
import type { WhatsappSettings } from "./config.ts";

export async function whatsappDoctor(s: WhatsappSettings, ctx: DoctorContext): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [
    publicUrlCheck({
      id: "whatsapp.public-url",
      platform: "WhatsApp",
      config: ctx.config,
      path: s.path,
      httpsRequired: true,
    }),
  ];
  const title = "WhatsApp phone number and token";
  try {
    const n = await new WhatsappClient(s.apiBase, s.apiVersion, s.phoneNumberId, s.accessToken).phoneNumber();
    const who = [n.display_phone_number, n.verified_name && `"${n.verified_name}"`].filter(Boolean).join(" ");
    out.push(ok("whatsapp.phone-number", title, `${who || n.id} (phone number id ${s.phoneNumberId})`));
  } catch (err) {
    if (err instanceof PlatformClientError) {
      const graph = (err.body as { error?: { code?: number; message?: string } } | undefined)?.error;
      out.push(
        failed(
          "whatsapp.phone-number",
          title,
          `Meta does not know phone number id ${s.phoneNumberId} for this token (${graph?.message ?? `HTTP ${err.status}`})`,
          "copy the Phone number ID (not the phone number) from WhatsApp → API Setup in the Meta app dashboard into channels.whatsapp.phoneNumberId, and use a token of the same WhatsApp Business Account",
        ),
      );
    } else if (err instanceof PermanentDeliveryError) {
      out.push(
        failed(
          "whatsapp.phone-number",
          title,
          `Meta refused the access token (${err.message.replace(/^.*?\((.*)\);.*$/, "$1")})`,
          "create a System User access token with whatsapp_business_messaging (Business settings → System users) and put it in channels.whatsapp.accessToken or OPENCLAW_CONNECTOR_WHATSAPP_ACCESS_TOKEN",
        ),
      );
    } else {
      out.push(
        failed(
          "whatsapp.phone-number",
          title,
          `cannot reach the Graph API: ${describeFailure(err)}`,
          unreachable(err) ? `check this host's network access to ${s.apiBase}` : "try again shortly",
        ),
      );
    }
  }
  return out;
}
