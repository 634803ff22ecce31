// WeChat Official Account against test/fakes/wechat.ts: plaintext webhooks signed in the query (sha1 over the
// sorted token, timestamp and nonce), redelivery as WeChat retries (the same MsgId). With passiveReplyMs 0 every
// answer goes through the customer-service API, where the outbox's promises (wait, dead letters, chunks) apply;
// a passive XML reply in the HTTP answer is recorded too. WeChat's rate-limit errcodes (45011, 45009) carry no
// wait, so the suite checks only "arrives once after it". No buttons, no edits.
import { FakeWechat, signedQuery, wechatMessageXml } from "../../fakes/wechat.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const TOKEN = "wechat-contract-token";
const USER = "openid_contract";

export function wechatDriver(): ChannelDriver {
  let wx: FakeWechat;
  let gw: TestGateway;
  let seq = 0;
  const passive: PlatformMessage[] = [];

  const post = async (xml: string, badSignature = false) => {
    const res = await fetch(`${gw.url}/wechat/webhook?${signedQuery(TOKEN, { badSignature })}`, {
      method: "POST",
      headers: { "content-type": "text/xml" },
      body: xml,
    });
    const body = await res.text();
    const content = /<Content><!\[CDATA\[([\s\S]*?)\]\]><\/Content>/.exec(body)?.[1];
    if (res.ok && content !== undefined) passive.push({ text: content, at: Date.now(), buttons: [] });
    return res.status;
  };
  const message = (content: string) =>
    wechatMessageXml({ from: USER, content, msgId: String(7_000_000_000_000 + ++seq) });

  return {
    channel: "wechat",
    account: "default",
    async start(o) {
      wx = await new FakeWechat().start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            wechat: {
              token: TOKEN,
              appId: wx.appId,
              appSecret: wx.appSecret,
              allowedUsers: [USER],
              apiBase: wx.url,
              passiveReplyMs: 0,
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await wx?.stop();
    },
    address: () => ({ channel: "wechat", account: "default", conversationId: USER }),
    async sendText(text) {
      const xml = message(text);
      const status = await post(xml);
      return { status, redeliver: () => post(xml) };
    },
    sendBadSignature: (text) => post(message(text), true),
    messages: () => [
      ...passive,
      ...wx.sent
        .filter((m) => m.touser === USER && m.text)
        .map((m) => ({ text: m.text!.content, at: m.at ?? 0, buttons: [] })),
    ],
    // The API has no edit; the fake would answer an unknown path with 404 (not counted in `refused`).
    editCount: () => 0,
    rateLimitNextSend() {
      const since = Date.now();
      wx.failNext = { count: 1, errcode: 45011, errmsg: "api minute-quota reach limit" };
      return { refusedAt: () => wx.refused.find((r) => r.errcode === 45011 && r.at >= since)?.at };
    },
    failNextSendPermanently: () => {
      wx.failNext = {
        count: 1,
        errcode: 45015,
        errmsg: "response out of time limit or subscription is canceled",
      };
    },
    pressButton: { skip: "WeChat Official Account text messages carry no buttons" },
  };
}
