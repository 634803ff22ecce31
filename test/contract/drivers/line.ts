// LINE against test/fakes/line.ts: signed webhooks (X-Line-Signature), redelivery with the same webhookEventId
// and deliveryContext.isRedelivery, quick-reply postbacks as buttons. LINE's 429 carries no Retry-After (the
// Messaging API reference documents none), so the suite checks the wait only where a platform announces one.
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../../fakes/line.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const SECRET = "line-contract-secret";
const USER = lineId("U", "contract-user");

export function lineDriver(): ChannelDriver {
  let line: FakeLine;
  let gw: TestGateway;
  let seq = 0;

  const post = async (events: unknown[], secret = SECRET) => {
    const body = JSON.stringify({ destination: "Ubot", events });
    const res = await fetch(`${gw.url}/line/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-line-signature": lineWebhookSignature(secret, body) },
      body,
    });
    await res.body?.cancel();
    return res.status;
  };
  const eventId = () => `01HCONTRACT${String(++seq).padStart(15, "0")}`;

  return {
    channel: "line",
    account: "default",
    async start(o) {
      line = await new FakeLine().start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            line: {
              channelSecret: SECRET,
              channelAccessToken: line.token,
              allowedUsers: [USER],
              apiBase: line.url,
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await line?.stop();
    },
    address: () => ({ channel: "line", account: "default", conversationId: USER }),
    async sendText(text) {
      const event = lineTextEvent({
        text,
        userId: USER,
        replyToken: line.issueReplyToken(),
        webhookEventId: eventId(),
      });
      const status = await post([event]);
      return {
        status,
        redeliver: () => post([{ ...event, deliveryContext: { isRedelivery: true } }]),
      };
    },
    sendBadSignature: (text) =>
      post([lineTextEvent({ text, userId: USER, webhookEventId: eventId() })], "not-the-secret"),
    messages() {
      return line.calls.flatMap((c) =>
        c.body.messages
          .filter((m) => m.type === "text")
          .map((m): PlatformMessage => {
            const qr = m.quickReply as { items: { action: { label: string; data: string } }[] } | undefined;
            return {
              text: String(m.text),
              at: c.at,
              buttons: (qr?.items ?? []).map((i) => ({ label: i.action.label, value: i.action.data })),
            };
          }),
      );
    },
    // LINE has no edit API: any attempt would be a refused call to a path the fake does not serve.
    editCount: () => line.refused.filter((r) => r.status === 404).length,
    rateLimitNextSend() {
      const since = Date.now();
      line.rateLimitNext(1);
      return { refusedAt: () => line.refused.find((r) => r.status === 429 && r.at >= since)?.at };
    },
    failNextSendPermanently: () => line.failNext(400, "The property, 'to', in the request body is invalid"),
    pressButton: (_message, { value }) =>
      post([
        {
          type: "postback",
          mode: "active",
          timestamp: Date.now(),
          webhookEventId: eventId(),
          deliveryContext: { isRedelivery: false },
          source: { type: "user", userId: USER },
          replyToken: line.issueReplyToken(),
          postback: { data: value },
        },
      ]),
  };
}
