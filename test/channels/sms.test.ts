import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import twilio from "twilio";
import { channelAccounts } from "../../src/channels/sdk/accounts.ts";
import { smsFromEnv, smsModule } from "../../src/channels/sms/index.ts";
import {
  signedUrlCandidates,
  twilioSignature,
  verifyTwilioSignature,
} from "../../src/channels/sms/signature.ts";
import type { ChannelContext } from "../../src/channels/types.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { FakeAgent, textOf } from "../fakes/openai-agent.ts";
import { FakeTwilio, inboundParams, twilioSign } from "../fakes/twilio.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";

const PUBLIC_URL = "https://sms.example.com:8443/sms/webhook";
/** A second account whose public URL has no port: Twilio may sign it with or without :443. */
const DEFAULT_PORT_URL = "https://sms.example.com/sms/webhook/dflt";
const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

describe("Twilio SMS channel", () => {
  let agent: FakeAgent;
  let tw: FakeTwilio;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent({
      reply: (r) => {
        const last = textOf(r.body.messages.at(-1)?.content ?? "");
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
            allowedUsers: "+1 555 123 0001, +15551230002",
            apiBase: tw.url,
            accounts: { default: { publicUrl: PUBLIC_URL }, dflt: { publicUrl: DEFAULT_PORT_URL } },
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

  const post = (
    params: Record<string, string>,
    signature?: string | null,
    signUrl = PUBLIC_URL,
    path = "/sms/webhook",
  ) =>
    fetch(`${gw.url}${path}`, {
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

  test("signatures over the URL with or without the port are accepted as Twilio's validator accepts them", async () => {
    // Each spelling signed by the twilio SDK itself; the status is what its validateRequest says.
    const cases: [string, string, string, number][] = [
      ["/sms/webhook", PUBLIC_URL, "port 8443 as configured", 200],
      ["/sms/webhook", "https://sms.example.com/sms/webhook", "port removed", 200],
      ["/sms/webhook", "https://sms.example.com:443/sms/webhook", "another port (443)", 403],
      ["/sms/webhook", "http://sms.example.com:8443/sms/webhook", "another scheme", 403],
      ["/sms/webhook/dflt", DEFAULT_PORT_URL, "no port, as configured", 200],
      ["/sms/webhook/dflt", "https://sms.example.com:443/sms/webhook/dflt", "default port added", 200],
      ["/sms/webhook/dflt", "https://sms.example.com:80/sms/webhook/dflt", "the other default port", 403],
      ["/sms/webhook/dflt", "https://sms.example.com:8443/sms/webhook/dflt", "another port", 403],
    ];
    for (const [i, [path, signUrl, what, status]] of cases.entries()) {
      const params = inboundParams(tw.accountSid, { body: `port spelling ${i}`, from: "+15551230002" });
      const configured = path === "/sms/webhook" ? PUBLIC_URL : DEFAULT_PORT_URL;
      const sig = twilioSign(tw.authToken, signUrl, params);
      assert.equal(twilio.validateRequest(tw.authToken, sig, configured, params), status === 200, what);
      const res = await post(params, sig, signUrl, path);
      assert.equal(res.status, status, `${what}: ${signUrl}`);
      if (status === 200) {
        await waitFor(() => tw.sent.find((m) => m.Body === `echo: port spelling ${i}`), 10_000, what);
      }
    }
    const params = inboundParams(tw.accountSid, { body: "wrong signature" });
    const wrong = twilioSign("not-the-auth-token", DEFAULT_PORT_URL, params);
    assert.equal((await post(params, wrong, DEFAULT_PORT_URL, "/sms/webhook/dflt")).status, 403);
    assert.equal(agentSaw("wrong signature"), 0);
    for (const i of cases.keys()) assert.equal(agentSaw(`port spelling ${i}`), cases[i]![3] === 200 ? 1 : 0);
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
      // The fake's Media resource: the worker downloads it before the agent answers.
      media: [{ url: tw.addMedia(Buffer.from(PNG_1x1, "base64"), "image/png"), type: "image/png" }],
    });
    assert.equal((await post(params)).status, 200);
    await waitFor(() => tw.sent.find((m) => m.Body === "echo: look"), 10_000, "reply");
    const item = (await gw.gateway.store.listInbound({ limit: 100 })).find(
      (i) => i.id === `sms:default:${params.MessageSid}`,
    );
    assert.ok(item, "inbox item");
    assert.deepEqual(JSON.parse(item.payload).attachments, [
      { kind: "image", url: params.MediaUrl0, mime: "image/png" },
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

  test("we accept exactly the URL spellings twilio's validateRequest accepts (differential property)", () => {
    const configured = fc.record({
      scheme: fc.constantFrom("https", "http", "HTTPS"),
      host: fc.constantFrom("sms.example.com", "SMS.Example.com", "[2001:db8::1]", "user@sms.example.com"),
      port: fc.constantFrom("", ":443", ":80", ":8443"),
      path: fc.constantFrom("/sms/webhook", "", "/sms/it's", "/a b"),
      query: fc.constantFrom("", "?x=1", "?q=it's&x=a%20b", "?"),
    });
    const url = (c: { scheme: string; host: string; port: string; path: string; query: string }) =>
      `${c.scheme}://${c.host}${c.port}${c.path}${c.query}`;
    fc.assert(
      fc.property(
        configured,
        configured,
        fc.dictionary(fc.constantFrom("Body", "From", "To", "A"), fc.string(), { maxKeys: 3 }),
        (a, b, params) => {
          const publicUrl = url(a);
          // Sign over a spelling near the configured one: its own parts with some swapped for b's.
          const signUrl = url({ ...a, port: b.port, ...(b.scheme === "HTTPS" ? { scheme: b.scheme } : {}) });
          const sig = twilio.getExpectedTwilioSignature("tok", signUrl, params);
          const theirs = twilio.validateRequest("tok", sig, publicUrl, params);
          const ours = verifyTwilioSignature("tok", publicUrl, new URLSearchParams(params), sig);
          assert.equal(ours, theirs, `configured ${publicUrl}, signed ${signUrl}`);
        },
      ),
      { numRuns: 3000 },
    );
    // The candidates for a URL without a port: as is and with the scheme's default port.
    assert.deepEqual(signedUrlCandidates("https://x.example/sms").slice(0, 2), [
      "https://x.example/sms",
      "https://x.example:443/sms",
    ]);
    // Lenient base64 spellings of a right signature are refused, as Twilio's validator refuses them.
    const p = { Body: "x" };
    const sig = twilio.getExpectedTwilioSignature("tok", "https://x.example/sms", p);
    for (const variant of [
      sig.replace(/=+$/, ""),
      sig.replaceAll("+", "-").replaceAll("/", "_"),
      `${sig}!`,
    ]) {
      if (variant === sig) continue;
      assert.equal(twilio.validateRequest("tok", variant, "https://x.example/sms", p), false);
      assert.equal(
        verifyTwilioSignature("tok", "https://x.example/sms", new URLSearchParams(p), variant),
        false,
      );
    }
  });

  test("a missing or unusable publicUrl is a configuration error naming the key", () => {
    const base = { accountSid: `AC${"0".repeat(32)}`, authToken: "t", from: "+1555" };
    const ctx = { config: { server: {} } } as unknown as ChannelContext;
    const problems = (section: Record<string, unknown>) => {
      try {
        for (const { account, settings } of channelAccounts(smsModule, section))
          smsModule.create(settings, ctx, account);
      } catch (err) {
        assert.ok(err instanceof ConfigError, `${(err as Error).name}: ${(err as Error).message}`);
        return err.message;
      }
      assert.fail("accepted");
    };
    assert.match(problems(base), /channels\.sms\.publicUrl: required/);
    assert.match(
      problems({ ...base, accounts: { ops: {} } }),
      /channels\.sms\.accounts\.ops\.publicUrl: required/,
    );
    assert.match(problems({ ...base, publicUrl: "ftp://x.example/sms" }), /channels\.sms\.publicUrl: /);
    assert.match(problems({ ...base, publicUrl: "https://x.example/sms", accountSid: "nope" }), /accountSid/);
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
