// WhatsApp Cloud against test/fakes/whatsapp.ts: webhooks signed with X-Hub-Signature-256, redelivery as Meta
// retries (the same payload, same wamid), reply buttons pressed as interactive button_reply messages. Graph's
// throughput errors (130429, HTTP 400) carry no retry-after, so the suite checks only "arrives once after it".
import { FakeWhatsapp, hubSignature, waMessagePayload, waText } from "../../fakes/whatsapp.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const APP_SECRET = "meta-contract-secret";
const USER = "15557770001";

interface WaBody {
  type: string;
  text?: { body: string };
  interactive?: {
    body: { text: string };
    action: { buttons?: { reply: { id: string; title: string } }[] };
  };
}

export function whatsappDriver(): ChannelDriver {
  let wa: FakeWhatsapp;
  let gw: TestGateway;
  let seq = 0;

  const post = async (payload: unknown, secret = APP_SECRET) => {
    const body = JSON.stringify(payload);
    const res = await fetch(`${gw.url}/whatsapp/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": hubSignature(secret, body) },
      body,
    });
    await res.body?.cancel();
    return res.status;
  };
  const wamid = () => `wamid.CONTRACT${String(++seq).padStart(8, "0")}`;

  return {
    channel: "whatsapp",
    account: "default",
    async start(o) {
      wa = await new FakeWhatsapp().start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            whatsapp: {
              accessToken: wa.token,
              verifyToken: "contract-verify",
              appSecret: APP_SECRET,
              phoneNumberId: wa.phoneNumberId,
              allowedUsers: [USER],
              apiBase: wa.url,
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await wa?.stop();
    },
    address: () => ({ channel: "whatsapp", account: "default", conversationId: USER }),
    async sendText(text) {
      const payload = waMessagePayload(wa.phoneNumberId, waText(USER, text, wamid()));
      const status = await post(payload);
      return { status, redeliver: () => post(payload) };
    },
    sendBadSignature: (text) =>
      post(waMessagePayload(wa.phoneNumberId, waText(USER, text, wamid())), "not-the-app-secret"),
    messages() {
      return wa.sent.flatMap((s): PlatformMessage[] => {
        const b = s.body as unknown as WaBody;
        if (b.type === "text") return [{ text: b.text!.body, at: s.at, buttons: [] }];
        if (b.type !== "interactive") return [];
        const buttons = (b.interactive!.action.buttons ?? []).map((x) => ({
          label: x.reply.title,
          value: x.reply.id,
        }));
        return [{ text: b.interactive!.body.text, at: s.at, buttons }];
      });
    },
    // The Cloud API has no edit: an attempt would be a request the fake refuses as an invalid parameter (#100).
    editCount: () => wa.refused.filter((r) => r.code === 100).length,
    rateLimitNextSend() {
      const since = Date.now();
      wa.rateLimitNext(1);
      return { refusedAt: () => wa.refused.find((r) => r.code === 130429 && r.at >= since)?.at };
    },
    failNextSendPermanently: () => wa.failNext(400, 131030, "Recipient phone number not in allowed list"),
    pressButton: (_message, { label: title, value }) =>
      post(
        waMessagePayload(wa.phoneNumberId, {
          from: USER,
          id: wamid(),
          type: "interactive",
          interactive: { type: "button_reply", button_reply: { id: value, title } },
        }),
      ),
  };
}
