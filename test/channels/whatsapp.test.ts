// WhatsApp Cloud end to end: the verify handshake and signed webhooks into a real gateway, replies to a fake
// Graph API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { normalizeWhatsappPayload } from "../../src/channels/whatsapp/ingress.ts";
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
            type: "reaction",
            reaction: { message_id: "wamid.X", emoji: "👍" },
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

  it("a signed message whose timestamp is 7 days old is acknowledged and ignored", async () => {
    const old = String(Math.floor(Date.now() / 1000) - 7 * 86_400 - 3600);
    const stale = waMessagePayload(wa.phoneNumberId, {
      ...waText(ALICE, "last week", "wamid.OLD1"),
      timestamp: old,
    });
    assert.equal((await post(stale)).status, 200);
    assert.equal(await gw.gateway.store.getInbound("whatsapp:default:wamid.OLD1"), undefined);
    await post(message(ALICE, "this week"));
    await waitFor(() => wa.texts().includes("echo: this week"), 10_000, "the fresh message's reply");
    assert.equal(agent.requests.filter((r) => r.body.messages.at(-1)?.content === "last week").length, 0);
  });

  it("buttons clawgate did not make: the title is the user's message, commands included", async () => {
    const press = (id: string, m: Record<string, unknown>) =>
      post(waMessagePayload(wa.phoneNumberId, { from: ALICE, id, ...m }));
    const saw = (t: string) => agent.requests.some((r) => r.body.messages.at(-1)?.content === t);
    // A reply button from a message another tool sent.
    await press("wamid.FOREIGN1", {
      type: "interactive",
      interactive: { type: "button_reply", button_reply: { id: "promo-42", title: "Tell me more" } },
    });
    await waitFor(() => saw("Tell me more"), 10_000, "the button title reaching the agent");
    // A list row.
    await press("wamid.FOREIGN2", {
      type: "interactive",
      interactive: {
        type: "list_reply",
        list_reply: { id: "row-7", title: "Opening hours", description: "When are you open?" },
      },
    });
    await waitFor(() => saw("Opening hours"), 10_000, "the list row title reaching the agent");
    // A template's quick-reply button (type "button": payload and text).
    await press("wamid.FOREIGN3", { type: "button", button: { payload: "TPL_YES", text: "Yes please" } });
    await waitFor(() => saw("Yes please"), 10_000, "the template button text reaching the agent");
    // A title that is a command runs the command.
    await press("wamid.FOREIGN4", {
      type: "interactive",
      interactive: { type: "button_reply", button_reply: { id: "menu-help", title: "/pick" } },
    });
    await waitFor(
      () => wa.sent.filter((x) => x.body.type === "interactive" && x.body.to === ALICE).length >= 2,
      10_000,
      "/pick answered again",
    );
  });

  it("a button that is no longer valid, or has no title to read, is answered with a note", async () => {
    const notes = () => wa.texts().filter((t) => t === "This button is no longer valid.").length;
    const before = notes();
    // One of ours whose long value expired from the store: its title is not sent to the agent.
    await post(
      waMessagePayload(wa.phoneNumberId, {
        from: ALICE,
        id: "wamid.EXPIRED1",
        type: "interactive",
        interactive: { type: "button_reply", button_reply: { id: "~bv:gone", title: "Alpha" } },
      }),
    );
    await waitFor(() => notes() === before + 1, 10_000, "the note for an expired button");
    // Someone else's button without a title.
    await post(
      waMessagePayload(wa.phoneNumberId, {
        from: ALICE,
        id: "wamid.NOTITLE1",
        type: "button",
        button: { payload: "SOMETHING" },
      }),
    );
    await waitFor(() => notes() === before + 2, 10_000, "the note for a button without text");
    assert.equal(agent.requests.filter((r) => r.body.messages.at(-1)?.content === "Alpha").length, 0);
  });

  it("a batch with unreadable parts: the readable messages are taken in, the rest skipped", async () => {
    const good1 = waText(ALICE, "survivor one", "wamid.SURVIVE1");
    const good2 = waText(BOB, "survivor two", "wamid.SURVIVE2");
    const payload = waMessagePayload(wa.phoneNumberId, good1) as { entry: { changes: unknown[] }[] };
    const value = (payload.entry[0]!.changes[0] as { value: { messages: unknown[] } }).value;
    value.messages.push(
      { from: ALICE, type: "text", text: { body: "no id" } },
      { from: 15551230001, id: "wamid.NUMFROM", type: "text", text: { body: "number sender" } },
      { from: "", id: "wamid.EMPTYFROM", type: "text", text: { body: "empty sender" } },
      { from: ALICE, id: "wamid.BADTEXT", type: "text", text: "not an object" },
      null,
      "a string",
    );
    payload.entry[0]!.changes.unshift(null, 5, { field: "messages", value: "oops" });
    (payload.entry as unknown[]).push(
      null,
      { changes: null },
      waMessagePayload(wa.phoneNumberId, good2).entry,
    );
    (payload.entry as unknown[]).push(
      (waMessagePayload(wa.phoneNumberId, good2) as { entry: unknown[] }).entry[0],
    );
    assert.equal((await post(payload)).status, 200);
    const store = gw.gateway.store;
    assert.ok(await store.getInbound("whatsapp:default:wamid.SURVIVE1"));
    assert.ok(await store.getInbound("whatsapp:default:wamid.SURVIVE2"));
    assert.equal(await store.getInbound("whatsapp:default:undefined"), undefined);
    for (const id of ["wamid.NUMFROM", "wamid.EMPTYFROM", "wamid.BADTEXT"])
      assert.equal(await store.getInbound(`whatsapp:default:${id}`), undefined, id);
    await waitFor(() => wa.texts().includes("echo: survivor two"), 10_000, "the second survivor answered");
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

describe("whatsapp payload normalizer (property)", () => {
  const PHONE = "123456";
  const opts = { account: "default", phoneNumberId: PHONE };
  const junk = fc.oneof(
    fc.constant(null),
    fc.constant(undefined),
    fc.integer(),
    fc.string(),
    fc.boolean(),
    fc.array(fc.anything(), { maxLength: 2 }),
    fc.anything(),
  );
  const okMessage = fc.record({
    from: fc.stringMatching(/^[1-9]\d{6,14}$/),
    id: fc.uuid().map((u) => `wamid.ok.${u}`),
    timestamp: fc.constant(String(Math.floor(Date.now() / 1000))),
    type: fc.constant("text"),
    text: fc.record({ body: fc.string({ minLength: 1 }) }),
  });
  // A message-like object with any of its fields replaced by something of another type.
  const badMessage = fc.record(
    {
      from: fc.oneof(junk, fc.constant(""), fc.constant("  ")),
      id: fc.oneof(junk, fc.constant("")),
      timestamp: junk,
      type: fc.oneof(
        fc.constantFrom("text", "image", "interactive", "button", "sticker", "__proto__", "constructor"),
        junk,
      ),
      text: junk,
      image: junk,
      interactive: junk,
      button: junk,
    },
    { requiredKeys: [] },
  );
  const change = (messages: fc.Arbitrary<unknown>) =>
    fc.record({
      field: fc.constant("messages"),
      value: fc.record({
        metadata: fc.constant({ phone_number_id: PHONE }),
        contacts: fc.oneof(junk, fc.array(fc.oneof(junk, fc.record({ wa_id: junk, profile: junk })))),
        messages,
      }),
    });
  const payload = fc.record({
    object: fc.constant("whatsapp_business_account"),
    entry: fc.array(
      fc.oneof(
        junk,
        fc.record({
          changes: fc.oneof(
            junk,
            fc.array(
              fc.oneof(
                junk,
                change(fc.oneof(junk, fc.array(fc.oneof(okMessage, badMessage, junk), { maxLength: 4 }))),
                fc.record({ field: junk, value: junk }),
              ),
              { maxLength: 4 },
            ),
          ),
        }),
      ),
      { maxLength: 4 },
    ),
  });

  it("never throws, never makes an id or address from nothing, and keeps every readable message", () => {
    fc.assert(
      fc.property(payload, (p) => {
        const { events } = normalizeWhatsappPayload(p, opts);
        for (const e of events) {
          const native = e.native as { id: string; from: string };
          // The id is the platform's own id, a non-empty string: never "undefined" or "[object Object]".
          assert.equal(typeof native.id, "string");
          assert.ok(native.id.trim().length > 0);
          assert.equal(e.id, `whatsapp:default:${native.id.trim()}`);
          assert.ok(e.sender.id.trim().length > 0 && e.conversation.id.trim().length > 0, JSON.stringify(e));
          assert.equal(typeof e.text, "string");
        }
        // Every well-formed message in a well-formed change is taken in, whatever its neighbours are.
        const expected: string[] = [];
        for (const entry of p.entry as { changes?: unknown }[]) {
          if (!entry || typeof entry !== "object" || !Array.isArray(entry.changes)) continue;
          for (const c of entry.changes as { field?: unknown; value?: { messages?: unknown } }[]) {
            if (!c || typeof c !== "object" || c.field !== "messages" || !Array.isArray(c.value?.messages))
              continue;
            for (const m of c.value.messages as { id?: unknown }[]) {
              if (typeof m?.id === "string" && m.id.startsWith("wamid.ok."))
                expected.push(`whatsapp:default:${m.id}`);
            }
          }
        }
        const got = new Set(events.map((e) => e.id));
        for (const id of expected) assert.ok(got.has(id), `lost ${id}`);
      }),
      { numRuns: 3000 },
    );
  });

  it("kinds it does not handle (a Flow's reply, a reaction) are ignored without a warning", () => {
    for (const m of [
      { type: "interactive", interactive: { type: "nfm_reply", nfm_reply: { response_json: "{}" } } },
      { type: "reaction", reaction: { message_id: "wamid.X", emoji: "👍" } },
    ]) {
      const r = normalizeWhatsappPayload(
        waMessagePayload(PHONE, { from: "15551230001", id: "wamid.K", ...m }),
        opts,
      );
      assert.deepEqual(r, { events: [], skipped: [] });
    }
  });

  it("fixed cases: a null change, a change whose value is not an object", () => {
    const ok = waText("15551230001", "still here", "wamid.FIXED1");
    for (const bad of [null, 0, "x", { field: "messages", value: null }, { field: "messages", value: [] }]) {
      const p = waMessagePayload(PHONE, ok) as { entry: { changes: unknown[] }[] };
      p.entry[0]!.changes.unshift(bad);
      const { events } = normalizeWhatsappPayload(p, opts);
      assert.deepEqual(
        events.map((e) => e.id),
        ["whatsapp:default:wamid.FIXED1"],
        JSON.stringify(bad),
      );
    }
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
