// Twilio SMS against test/fakes/twilio.ts: inbound webhooks signed with X-Twilio-Signature over the public URL
// (by the official twilio package), redelivery as Twilio retries (the same MessageSid and parameters). SMS has
// no buttons and no edits; Twilio's 429 (error 20429) documents no Retry-After.
import { FakeTwilio, inboundParams, twilioSign } from "../../fakes/twilio.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver } from "../suite.ts";

const PUBLIC_URL = "https://sms.contract.example/sms/webhook";
const USER = "+15557770002";

export function smsDriver(): ChannelDriver {
  let tw: FakeTwilio;
  let gw: TestGateway;
  let seq = 0;

  const post = async (params: Record<string, string>, token?: string) => {
    const res = await fetch(`${gw.url}/sms/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": twilioSign(token ?? tw.authToken, PUBLIC_URL, params),
      },
      body: new URLSearchParams(params),
    });
    await res.body?.cancel();
    return res.status;
  };
  const sid = () => `SM${String(++seq).padStart(32, "0")}`;

  return {
    channel: "sms",
    account: "default",
    async start(o) {
      tw = await new FakeTwilio().start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            sms: {
              accountSid: tw.accountSid,
              authToken: tw.authToken,
              from: "+15550001111",
              allowedUsers: USER,
              apiBase: tw.url,
              publicUrl: PUBLIC_URL,
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await tw?.stop();
    },
    address: () => ({ channel: "sms", account: "default", conversationId: USER }),
    async sendText(text) {
      const params = inboundParams(tw.accountSid, { from: USER, body: text, sid: sid() });
      const status = await post(params);
      return { status, redeliver: () => post(params) };
    },
    sendBadSignature: (text) =>
      post(inboundParams(tw.accountSid, { from: USER, body: text, sid: sid() }), "not-the-auth-token"),
    messages: () =>
      tw.sent
        .filter((m) => m.To === USER && m.Body)
        .map((m) => ({ text: m.Body!, at: m.at ?? 0, buttons: [] })),
    // Twilio has no edit: an attempt would be a request the fake refuses.
    editCount: () => tw.refused.filter((r) => r.status === 404).length,
    rateLimitNextSend() {
      const since = Date.now();
      tw.rateLimitNext = 1;
      return { refusedAt: () => tw.refused.find((r) => r.status === 429 && r.at >= since)?.at };
    },
    failNextSendPermanently: () => tw.failNext(400, 21610, "Attempt to send to unsubscribed recipient"),
    pressButton: { skip: "SMS has no buttons" },
  };
}
