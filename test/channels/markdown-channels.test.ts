// The agent's Markdown arrives in each platform's own format, end to end: a real gateway, the platform's fake,
// and an agent answering with bold, a link (with & in its URL), a list, inline code holding "<" and italics.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseWechatXml } from "../../src/channels/wechat/xml.ts";
import { skillPayload } from "../fakes/kakao.ts";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../fakes/line.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeSlack, slackEventEnvelope, slackSignature } from "../fakes/slack.ts";
import { FakeTwilio, inboundParams, twilioSign } from "../fakes/twilio.ts";
import { FakeWechat, signedQuery, wechatMessageXml } from "../fakes/wechat.ts";
import { FakeWhatsapp, hubSignature, waMessagePayload, waText } from "../fakes/whatsapp.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { setupDiscord } from "./discord-helpers.ts";
import { BOT, setupTelegram } from "./telegram-helpers.ts";

const ANSWER = "**Done** — see [the docs](https://docs.example/a?b=1&c=2)\n\n- `x<y` holds\n- _really_";
const PLAIN = "Done — see the docs (https://docs.example/a?b=1&c=2)\n\n• x<y holds\n• really";

describe("telegram", () => {
  test("the answer goes as Telegram HTML and shows without a Markdown character", async () => {
    const t = await setupTelegram({ agent: { reply: () => ANSWER } });
    try {
      t.fake.userMessage(BOT.token, { text: "format please", userId: 42 });
      const shown = "Done — see the docs\n\n• x<y holds\n• really";
      await waitFor(() => t.fake.messages(BOT.token, 42).find((m) => m.text === shown), 10_000, "the reply");
      const last = t.fake.calls
        .filter((c) => c.method === "sendMessage" || c.method === "editMessageText")
        .at(-1)!;
      assert.equal(last.params.parse_mode, "HTML");
      assert.equal(
        last.params.text,
        '<b>Done</b> — see <a href="https://docs.example/a?b=1&amp;c=2">the docs</a>\n\n' +
          "• <code>x&lt;y</code> holds\n• <i>really</i>",
      );
    } finally {
      await t.close();
    }
  });
});

describe("discord", () => {
  test("the answer goes as Discord Markdown", async () => {
    const t = await setupDiscord({ agent: { reply: () => ANSWER } });
    try {
      const dm = "800000000000000009";
      t.fake.userMessage({ content: "format please", channelId: dm });
      const expected =
        "**Done** — see [the docs](https://docs.example/a?b=1&c=2)\n\n- `x<y` holds\n- *really*";
      await waitFor(() => t.fake.messagesIn(dm).find((m) => m.content === expected), 10_000, "the reply");
    } finally {
      await t.close();
    }
  });
});

describe("gateways with one agent", () => {
  let agent: FakeAgent;
  before(async () => {
    agent = await new FakeAgent({ reply: () => ANSWER }).start();
  });
  after(() => agent.stop());

  async function withGateway(channels: Record<string, unknown>, run: (gw: TestGateway) => Promise<void>) {
    const gw = await startTestGateway({ config: { agentUrl: agent.url, channels } });
    try {
      await run(gw);
    } finally {
      await gw.stop();
    }
  }

  test("slack: chat.postMessage carries mrkdwn (*bold*, <url|label>), not **bold**", async () => {
    const slack = await new FakeSlack().start();
    const secret = "slack-signing-secret";
    try {
      await withGateway(
        {
          slack: {
            botToken: slack.token,
            signingSecret: secret,
            allowedUsers: ["UALICE"],
            apiBase: slack.apiBase,
          },
        },
        async (gw) => {
          const raw = JSON.stringify(
            slackEventEnvelope({
              type: "message",
              channel: "DALICE",
              channel_type: "im",
              user: "UALICE",
              text: "format please",
              ts: "1800000900.000100",
            }),
          );
          const res = await fetch(`${gw.url}/slack/events`, {
            method: "POST",
            headers: { "content-type": "application/json", ...slackSignature(secret, raw) },
            body: raw,
          });
          assert.equal(res.status, 200);
          const expected =
            "*Done* — see <https://docs.example/a?b=1&amp;c=2|the docs>\n\n• `x&lt;y` holds\n• _really_";
          await waitFor(
            () => slack.calls.some((c) => c.method === "chat.postMessage" && c.args.text === expected),
            10_000,
            "the mrkdwn reply",
          );
          assert.ok(!slack.calls.some((c) => String(c.args.text).includes("**")));
        },
      );
    } finally {
      await slack.stop();
    }
  });

  test("whatsapp: the text body uses WhatsApp's *bold* and _italic_, links as text (url)", async () => {
    const wa = await new FakeWhatsapp().start();
    const secret = "meta-app-secret";
    try {
      await withGateway(
        {
          whatsapp: {
            accessToken: wa.token,
            verifyToken: "verify",
            appSecret: secret,
            phoneNumberId: wa.phoneNumberId,
            allowedUsers: ["15551230001"],
            apiBase: wa.url,
          },
        },
        async (gw) => {
          const body = JSON.stringify(
            waMessagePayload(wa.phoneNumberId, waText("15551230001", "format please")),
          );
          const res = await fetch(`${gw.url}/whatsapp/webhook`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "x-hub-signature-256": hubSignature(secret, body),
            },
            body,
          });
          assert.equal(res.status, 200);
          const expected =
            "*Done* — see the docs (https://docs.example/a?b=1&c=2)\n\n- `x<y` holds\n- _really_";
          await waitFor(() => wa.texts().includes(expected), 10_000, "the formatted reply");
        },
      );
    } finally {
      await wa.stop();
    }
  });

  test("line: plain text", async () => {
    const line = await new FakeLine().start();
    const secret = "line-channel-secret";
    const alice = lineId("U", "alice");
    try {
      await withGateway(
        {
          line: {
            channelSecret: secret,
            channelAccessToken: line.token,
            allowedUsers: [alice],
            apiBase: line.url,
          },
        },
        async (gw) => {
          const replyToken = line.issueReplyToken();
          const body = JSON.stringify({
            destination: "Ubot",
            events: [lineTextEvent({ text: "format please", userId: alice, replyToken })],
          });
          const res = await fetch(`${gw.url}/line/webhook`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "x-line-signature": lineWebhookSignature(secret, body),
            },
            body,
          });
          assert.equal(res.status, 200);
          await waitFor(() => line.texts().includes(PLAIN), 10_000, "the plain reply");
        },
      );
    } finally {
      await line.stop();
    }
  });

  test("sms: plain text in the Body", async () => {
    const tw = await new FakeTwilio().start();
    const publicUrl = "https://sms.example.com/sms/webhook";
    try {
      await withGateway(
        {
          sms: {
            accountSid: tw.accountSid,
            authToken: tw.authToken,
            from: "+15550001111",
            allowedUsers: "+15551230001",
            apiBase: tw.url,
            publicUrl,
          },
        },
        async (gw) => {
          const params = inboundParams(tw.accountSid, { body: "format please" });
          const res = await fetch(`${gw.url}/sms/webhook`, {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              "x-twilio-signature": twilioSign(tw.authToken, publicUrl, params),
            },
            body: new URLSearchParams(params),
          });
          assert.equal(res.status, 200);
          await waitFor(() => tw.sent.some((m) => m.Body === PLAIN), 10_000, "the plain reply");
        },
      );
    } finally {
      await tw.stop();
    }
  });

  test("kakao: plain text in the simpleText bubble", async () => {
    await withGateway({ kakao: { allowedUsers: "kakao_alice" } }, async (gw) => {
      const res = await fetch(`${gw.url}/kakao/webhook`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(skillPayload({ utterance: "format please" })),
      });
      assert.deepEqual(await res.json(), {
        version: "2.0",
        template: { outputs: [{ simpleText: { text: PLAIN } }] },
      });
    });
  });

  test("wechat: plain text in the passive reply", async () => {
    const wechat = await new FakeWechat().start();
    const token = "wechat-test-token";
    try {
      await withGateway(
        {
          wechat: {
            token,
            appId: wechat.appId,
            appSecret: wechat.appSecret,
            allowedUsers: ["openid_alice"],
            apiBase: wechat.url,
            passiveReplyMs: 3000,
          },
        },
        async (gw) => {
          const res = await fetch(`${gw.url}/wechat/webhook?${signedQuery(token)}`, {
            method: "POST",
            headers: { "content-type": "text/xml" },
            body: wechatMessageXml({ content: "format please" }),
          });
          assert.equal(parseWechatXml(await res.text()).Content, PLAIN);
        },
      );
    } finally {
      await wechat.stop();
    }
  });
});
