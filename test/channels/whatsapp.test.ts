// WhatsApp Cloud end to end: the verify handshake and signed webhooks into a real gateway, replies to a fake
// Graph API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeWhatsapp, hubSignature, waMessagePayload, waText } from "../fakes/whatsapp.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { channelTestExtension, testCommandPolicy, testPng } from "./extension.ts";

const APP_SECRET = "meta-app-secret";
const VERIFY = "my-verify-token";
const ALICE = "15551230001";
const MALLORY = "15559990002";
// Rate-limit tests use their own chats: after a 429 a chat is paced slowly for a while, as it should be.
const BOB = "15551230003";
const CAROL = "15551230004";
let wa: FakeWhatsapp;
let agent: FakeAgent;
let gw: TestGateway;

async function post(payload: unknown, o: { signature?: string | null; url?: string } = {}) {
  const body = typeof payload === "string" ? payload : JSON.stringify(payload);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const sig = o.signature === undefined ? hubSignature(APP_SECRET, body) : o.signature;
  if (sig !== null) headers["x-hub-signature-256"] = sig;
  return fetch(`${o.url ?? gw.url}/whatsapp/webhook`, { method: "POST", headers, body });
}

const message = (from: string, text: string, id?: string) =>
  waMessagePayload(wa.phoneNumberId, waText(from, text, id));

before(async () => {
  wa = await new FakeWhatsapp().start();
  agent = await new FakeAgent().start();
  gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      policy: testCommandPolicy,
      channels: {
        whatsapp: {
          accessToken: wa.token,
          verifyToken: VERIFY,
          appSecret: APP_SECRET,
          phoneNumberId: wa.phoneNumberId,
          allowedUsers: ["+1 555-123-0001", BOB, CAROL],
          apiBase: wa.url,
          bodyLimitBytes: 8192,
        },
      },
    },
    extensions: [channelTestExtension(await testPng(3000, 200))],
  });
});

after(async () => {
  await gw?.stop();
  await wa?.stop();
  await agent?.stop();
});

describe("whatsapp ingress", () => {
  it("answers the GET verify handshake only with the right token", async () => {
    const ok = await fetch(
      `${gw.url}/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=${VERIFY}&hub.challenge=1158201444`,
    );
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), "1158201444");
    const bad = await fetch(
      `${gw.url}/whatsapp/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`,
    );
    assert.equal(bad.status, 403);
  });

  it("a text message flows to the agent and the reply is sent through /messages", async () => {
    assert.equal((await post(message(ALICE, "hello whatsapp"))).status, 200);
    await waitFor(() => wa.texts().includes("echo: hello whatsapp"), 10_000, "the reply");
    const sent = wa.sent.find((s) => (s.body.text as { body?: string })?.body === "echo: hello whatsapp")!;
    assert.equal(sent.body.to, ALICE);
    assert.equal(agent.requests.at(-1)?.body.messages.at(-1)?.content, "hello whatsapp");
  });

  it("refuses missing and wrong signatures", async () => {
    assert.equal((await post(message(ALICE, "unsigned"), { signature: null })).status, 401);
    const wrong = await post(message(ALICE, "forged"), { signature: hubSignature("wrong-secret", "x") });
    assert.equal(wrong.status, 401);
    assert.match((await wrong.json()).error, /invalid X-Hub-Signature-256/);
  });

  it("a redelivered message id is processed once", async () => {
    const payload = message(ALICE, "once only", "wamid.REDELIVERED1");
    assert.equal((await post(payload)).status, 200);
    await waitFor(() => wa.texts().includes("echo: once only"), 10_000, "first reply");
    assert.equal((await post(payload)).status, 200);
    assert.equal(agent.requests.filter((r) => r.body.messages.at(-1)?.content === "once only").length, 1);
  });

  it("413 for an oversized body, 400 for malformed JSON, 200 for statuses and unknown types", async () => {
    assert.equal((await post(message(ALICE, "x".repeat(10_000)))).status, 413);
    assert.equal((await post("{nope")).status, 400);
    const pending = (await gw.gateway.store.inboxStats()).pending;
    const statuses = {
      object: "whatsapp_business_account",
      entry: [
        {
          id: "W",
          changes: [
            {
              field: "messages",
              value: {
                metadata: { phone_number_id: wa.phoneNumberId },
                statuses: [{ id: "wamid.X", status: "read" }],
              },
            },
          ],
        },
      ],
    };
    assert.equal((await post(statuses)).status, 200);
    assert.equal(
      (
        await post(
          waMessagePayload(wa.phoneNumberId, {
            from: ALICE,
            id: "wamid.S1",
            type: "sticker",
            sticker: { id: "1" },
          }),
        )
      ).status,
      200,
    );
    assert.equal((await post({ object: "page", entry: [] })).status, 200);
    assert.equal((await gw.gateway.store.inboxStats()).pending, pending);
  });

  it("an untrusted sender does not reach the agent and is told why", async () => {
    const n = agent.requests.length;
    await post(message(MALLORY, "let me in"));
    await waitFor(() => wa.texts().find((t) => t.includes(MALLORY)), 10_000, "the refusal");
    assert.equal(agent.requests.length, n);
  });

  it("outbound rate limit (Graph code 130429) then success", async () => {
    wa.rateLimitNext(1, 130429);
    await post(message(BOB, "throttle me"));
    await waitFor(() => wa.texts().includes("echo: throttle me"), 15_000, "delivered after the limit");
    const limited = wa.refused.find((r) => r.code === 130429)!;
    const delivered = wa.sent.find((s) => (s.body.text as { body?: string })?.body === "echo: throttle me")!;
    assert.ok(delivered.at - limited.at >= 900, "waited before retrying");
  });

  it("outbound HTTP 429 then success", async () => {
    wa.rateLimitNext(1, 429);
    await post(message(CAROL, "throttle me harder"));
    await waitFor(() => wa.texts().includes("echo: throttle me harder"), 15_000, "delivered after the 429");
  });

  it("buttons go out as interactive replies and a press comes back as the action", async () => {
    await post(message(ALICE, "/pick"));
    const sent = await waitFor(
      () => wa.sent.find((s) => s.body.type === "interactive"),
      10_000,
      "interactive",
    );
    const i = sent.body.interactive as {
      type: string;
      action: { buttons: { reply: { id: string; title: string } }[] };
    };
    assert.equal(i.type, "button");
    assert.deepEqual(
      i.action.buttons.map((b) => [b.reply.title, b.reply.id]),
      [
        ["Alpha", "pick:alpha"],
        ["Beta", "pick:beta"],
      ],
    );
    const press = waMessagePayload(wa.phoneNumberId, {
      from: ALICE,
      id: "wamid.PRESS1",
      type: "interactive",
      interactive: { type: "button_reply", button_reply: { id: "pick:beta", title: "Beta" } },
    });
    assert.equal((await post(press)).status, 200);
    await waitFor(() => wa.texts().includes("picked beta"), 10_000, "the action's reply");
  });

  it("images are uploaded as JPEG/PNG within 5 MB, then sent by media id", async () => {
    await post(message(ALICE, "/img"));
    const sent = await waitFor(() => wa.sent.find((s) => s.body.type === "image"), 10_000, "image message");
    const image = sent.body.image as { id: string; caption: string };
    assert.equal(image.caption, "a pic");
    const upload = wa.uploads.find((u) => u.id === image.id)!;
    assert.ok(upload.type === "image/png" || upload.type === "image/jpeg");
    assert.ok(upload.bytes.length <= 5 * 1024 * 1024);
  });

  it("a rate limit on the image after its text went out: the retry sends the image, not the text again", async () => {
    wa.rateLimitNext(1, 130429, 1);
    const png = await testPng();
    await gw.gateway.deliver(
      { channel: "whatsapp", account: "default", conversationId: "15550009999" },
      {
        text: "text before an image",
        media: [{ dataBase64: png.toString("base64"), mime: "image/png", filename: "retry.png" }],
      },
      "r2-whatsapp-text-then-image",
    );
    await waitFor(
      () => wa.sent.find((s) => s.body.to === "15550009999" && s.body.type === "image"),
      15_000,
      "the image after the limit",
    );
    assert.ok(wa.refused.some((r) => r.code === 130429));
    assert.equal(wa.texts().filter((t) => t === "text before an image").length, 1, "the text once");
  });
});

describe("whatsapp configuration", () => {
  it("refuses to start without the app secret, with a message saying where to find it", async () => {
    await assert.rejects(
      startTestGateway({
        env: {
          OPENCLAW_CONNECTOR_WHATSAPP_ACCESS_TOKEN: "t",
          OPENCLAW_CONNECTOR_WHATSAPP_VERIFY_TOKEN: "v",
          OPENCLAW_CONNECTOR_WHATSAPP_PHONE_NUMBER_ID: "123",
          OPENCLAW_CONNECTOR_WHATSAPP_PORT: "0",
        },
      }),
      /appSecret: required: clawgate refuses unsigned webhooks \(App settings → Basic → App secret\)/,
    );
  });

  it("the seed's environment opens its own listener at /whatsapp/webhook", async () => {
    const seeded = await startTestGateway({
      config: { agentUrl: agent.url },
      env: {
        OPENCLAW_CONNECTOR_WHATSAPP_ACCESS_TOKEN: wa.token,
        OPENCLAW_CONNECTOR_WHATSAPP_VERIFY_TOKEN: VERIFY,
        OPENCLAW_CONNECTOR_WHATSAPP_APP_SECRET: APP_SECRET,
        OPENCLAW_CONNECTOR_WHATSAPP_PHONE_NUMBER_ID: wa.phoneNumberId,
        OPENCLAW_CONNECTOR_WHATSAPP_ALLOWED_USERS: ALICE,
        OPENCLAW_CONNECTOR_WHATSAPP_PORT: "0",
        OPENCLAW_CONNECTOR_WHATSAPP_API_BASE: wa.url,
      },
    });
    try {
      const own = seeded.gateway.channelListenerUrls[0]!;
      assert.equal((await post(message(ALICE, "seed port"), { url: own })).status, 200);
      await waitFor(() => wa.texts().includes("echo: seed port"), 10_000, "answer");
    } finally {
      await seeded.stop();
    }
  });
});
