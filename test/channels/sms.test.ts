import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import twilio from "twilio";
import { smsFromEnv } from "../../src/channels/sms/index.ts";
import { twilioSignature, verifyTwilioSignature } from "../../src/channels/sms/signature.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeTwilio, inboundParams, twilioSign } from "../fakes/twilio.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";

const PUBLIC_URL = "https://sms.example.com:8443/sms/webhook";
const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

describe("Twilio SMS channel", () => {
  let agent: FakeAgent;
  let tw: FakeTwilio;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent({
      reply: (r) => {
        const last = r.body.messages.at(-1)?.content ?? "";
        return last === "long please" ? `${"A fairly long sentence. ".repeat(150)}END` : `echo: ${last}`;
      },
    }).start();
    tw = await new FakeTwilio().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        server: { publicBaseUrl: "https://gw.example.com" },
        channels: {
          sms: {
            accountSid: tw.accountSid,
            authToken: tw.authToken,
            from: "+15550001111",
            publicUrl: PUBLIC_URL,
            allowedUsers: "+1 555 123 0001, +15551230002",
            apiBase: tw.url,
          },
        },
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await tw?.stop();
  });

  const post = (params: Record<string, string>, signature?: string | null, signUrl = PUBLIC_URL) =>
    fetch(`${gw.url}/sms/webhook`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(signature === null
          ? {}
          : { "x-twilio-signature": signature ?? twilioSign(tw.authToken, signUrl, params) }),
      },
      body: new URLSearchParams(params),
    });
  const agentSaw = (text: string) =>
    agent.requests.filter((r) => r.body.messages.at(-1)?.content === text).length;

  test("an SMS signed over the public URL gets empty TwiML, and the reply goes out through Messages.json", async () => {
    const res = await post(inboundParams(tw.accountSid, { body: "hi sms" }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /xml/);
    assert.equal(await res.text(), '<?xml version="1.0" encoding="UTF-8"?><Response/>');
    const sent = await waitFor(() => tw.sent.find((m) => m.Body === "echo: hi sms"), 10_000, "reply");
    assert.equal(sent.To, "+15551230001");
    assert.equal(sent.From, "+15550001111");
  });

  test("a signature over the local URL (not the public one) is refused; a missing one gets 401", async () => {
    const params = inboundParams(tw.accountSid, { body: "local url" });
    const local = await post(params, undefined, `${gw.url}/sms/webhook`);
    assert.equal(local.status, 403);
    const wrong = await post(params, "bm90IGEgc2lnbmF0dXJl");
    assert.equal(wrong.status, 403);
    const missing = await post(params, null);
    assert.equal(missing.status, 401);
    assert.equal(agentSaw("local url"), 0);
  });

  // Twilio signs the URL and parameters only (no timestamp), so there is no stale-timestamp check on this
  // channel: a replayed request is caught by its MessageSid.
  test("a replayed MessageSid reaches the agent once", async () => {
    const params = inboundParams(tw.accountSid, { body: "twice", from: "+15551230002" });
    assert.equal((await post(params)).status, 200);
    assert.equal((await post(params)).status, 200);
    await waitFor(() => tw.sent.find((m) => m.Body === "echo: twice"), 10_000, "reply");
    assert.equal(agentSaw("twice"), 1);
  });

  test("oversized and malformed bodies are refused; status callbacks are acknowledged and ignored", async () => {
    const big = await post(inboundParams(tw.accountSid, { body: "x".repeat(70 * 1024) }));
    assert.equal(big.status, 413);
    const noSid = inboundParams(tw.accountSid);
    delete noSid.MessageSid;
    delete noSid.SmsMessageSid;
    assert.equal((await post(noSid)).status, 400);
    const json = await fetch(`${gw.url}/sms/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-twilio-signature": "x" },
      body: "{}",
    });
    assert.equal(json.status, 400);
    const before = agent.requests.length;
    const statusCallback = {
      MessageSid: "SMstatus1",
      MessageStatus: "delivered",
      AccountSid: tw.accountSid,
      From: "+15550001111",
      To: "+15551230001",
    };
    const res = await post(statusCallback);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<Response\/>/);
    const other = inboundParams("AC" + "0".repeat(32));
    assert.equal((await post(other)).status, 403, "another account's message");
    assert.equal(agent.requests.length, before);
  });

  test("an MMS arrives with its media URLs as attachments", async () => {
    const params = inboundParams(tw.accountSid, {
      body: "look",
      media: [
        { url: "https://api.twilio.com/2010-04-01/Accounts/AC/Messages/MM/Media/ME1", type: "image/jpeg" },
      ],
    });
    assert.equal((await post(params)).status, 200);
    await waitFor(() => tw.sent.find((m) => m.Body === "echo: look"), 10_000, "reply");
    const item = (await gw.gateway.store.listInbound({ limit: 100 })).find(
      (i) => i.id === `sms:default:${params.MessageSid}`,
    );
    assert.ok(item, "inbox item");
    assert.deepEqual(JSON.parse(item.payload).attachments, [
      { kind: "image", url: params.MediaUrl0, mime: "image/jpeg" },
    ]);
  });

  test("an untrusted sender may use public commands but not talk to the agent", async () => {
    const before = agent.requests.length;
    assert.equal(
      (await post(inboundParams(tw.accountSid, { from: "+15559990000", body: "stranger here" }))).status,
      200,
    );
    const refusal = await waitFor(
      () => tw.sent.find((m) => m.To === "+15559990000" && /allowlist/.test(m.Body ?? "")),
      10_000,
      "refusal",
    );
    assert.match(refusal.Body ?? "", /\+15559990000/);
    assert.equal(
      (await post(inboundParams(tw.accountSid, { from: "+15559990000", body: "/help" }))).status,
      200,
    );
    await waitFor(
      () => tw.sent.find((m) => m.To === "+15559990000" && /\/status/.test(m.Body ?? "")),
      10_000,
      "help",
    );
    assert.equal(agent.requests.length, before);
  });

  test("a long reply is split into messages of at most 1600 characters", async () => {
    assert.equal((await post(inboundParams(tw.accountSid, { body: "long please" }))).status, 200);
    const end = await waitFor(() => tw.sent.find((m) => m.Body?.endsWith("END")), 15_000, "last part");
    const parts = tw.sent.filter((m) => m.Body?.startsWith("A fairly long sentence"));
    assert.ok(parts.length >= 3, `expected several parts, got ${parts.length}`);
    for (const p of parts) assert.ok((p.Body?.length ?? 0) <= 1600);
    assert.ok(end);
  });

  test("a 429 from Twilio is retried and the message then goes out", async () => {
    tw.rateLimitNext = 1;
    assert.equal((await post(inboundParams(tw.accountSid, { body: "after limit" }))).status, 200);
    await waitFor(() => tw.sent.find((m) => m.Body === "echo: after limit"), 15_000, "reply after 429");
    assert.equal(tw.rateLimitNext, 0);
  });

  test("a retry after a 429 on the second part of one delivery does not send the first part again", async () => {
    // 1590 characters plus the numbered choices is more than one 1600-character message.
    const text = `${"Choose carefully. ".repeat(88)}Ready?`.slice(-1590);
    tw.rateLimitAfter = 1;
    tw.rateLimitNext = 1;
    await gw.gateway.deliver(
      { channel: "sms", account: "default", conversationId: "+15557770001" },
      {
        text,
        buttons: [
          { label: "Yes", value: "pick:yes" },
          { label: "No", value: "pick:no" },
        ],
      },
      "test-sms-parts-1",
    );
    await waitFor(
      () => tw.sent.find((m) => m.To === "+15557770001" && m.Body?.includes("2. No")),
      15_000,
      "the second part after the 429",
    );
    const parts = tw.sent.filter((m) => m.To === "+15557770001").map((m) => m.Body ?? "");
    assert.equal(parts.length, 2, "each part once");
    assert.ok(parts[0]!.startsWith(text.slice(0, 40)));
    assert.equal(tw.rateLimitNext, 0, "the second part was refused once");
  });

  test("an outbound image goes as MMS with a signed media URL the gateway serves", async () => {
    await gw.gateway.deliver(
      { channel: "sms", account: "default", conversationId: "+15551230001" },
      { text: "your picture", media: [{ dataBase64: PNG_1x1, mime: "image/png", filename: "p.png" }] },
      "test-mms-1",
    );
    const sent = await waitFor(() => tw.sent.find((m) => m.Body === "your picture"), 10_000, "mms");
    assert.equal(sent.MediaUrl.length, 1);
    assert.ok(sent.MediaUrl[0]!.startsWith("https://gw.example.com/media/"));
    const local = sent.MediaUrl[0]!.replace("https://gw.example.com", gw.url);
    const res = await fetch(local);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/png");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  });
});

describe("Twilio signature", () => {
  test("ours matches the official twilio SDK (getExpectedTwilioSignature and validateRequest)", () => {
    const url = "https://example.com:8443/sms/webhook?x=1";
    const params = { Body: "héllo & co", From: "+1555", To: "+1666", NumMedia: "0", AccountSid: "AC1" };
    const ours = twilioSignature("tok", url, new URLSearchParams(params)).toString("base64");
    assert.equal(ours, twilio.getExpectedTwilioSignature("tok", url, params));
    assert.ok(twilio.validateRequest("tok", ours, url, params));
    assert.ok(verifyTwilioSignature("tok", url, new URLSearchParams(params), ours));
    assert.equal(
      verifyTwilioSignature("tok", "https://example.com/sms/webhook?x=1", new URLSearchParams(params), ours),
      false,
    );
    assert.equal(verifyTwilioSignature("other", url, new URLSearchParams(params), ours), false);
  });

  test("the seed-style env vars configure SMS with its own listener on 8094", () => {
    assert.equal(smsFromEnv({}), undefined);
    const s = smsFromEnv({
      OPENCLAW_CONNECTOR_SMS_ACCOUNT_SID: "AC1",
      OPENCLAW_CONNECTOR_SMS_AUTH_TOKEN: "t",
      OPENCLAW_CONNECTOR_SMS_FROM: "+1555",
      OPENCLAW_CONNECTOR_SMS_PUBLIC_URL: "https://x.example/sms/webhook",
    });
    assert.deepEqual(s?.listen, { host: "127.0.0.1", port: 8094 });
    assert.equal(s?.publicUrl, "https://x.example/sms/webhook");
  });
});
