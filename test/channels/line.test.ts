// LINE end to end: signed webhooks into a real gateway, replies to a fake Messaging API (reply token, then push).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { validateSignature } from "@line/bot-sdk";
import sharp from "sharp";
import { LineClient, retryKeyFor } from "../../src/channels/line/client.ts";
import { lineSignature } from "../../src/channels/line/ingress.ts";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../fakes/line.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { channelTestExtension, testCommandPolicy, testPng } from "./extension.ts";

const SECRET = "line-channel-secret";
const PUBLIC = "https://media.example.test";
const ALICE = lineId("U", "alice");
const MALLORY = lineId("U", "mallory");
const TEAM = lineId("C", "team");
let line: FakeLine;
let agent: FakeAgent;
let gw: TestGateway;

async function post(events: unknown[] | string, o: { signature?: string | null } = {}) {
  const body = typeof events === "string" ? events : JSON.stringify({ destination: "Ubot", events });
  const headers: Record<string, string> = { "content-type": "application/json" };
  const sig = o.signature === undefined ? lineWebhookSignature(SECRET, body) : o.signature;
  if (sig !== null) headers["x-line-signature"] = sig;
  return fetch(`${gw.url}/line/webhook`, { method: "POST", headers, body });
}

before(async () => {
  line = await new FakeLine().start();
  agent = await new FakeAgent().start();
  gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      policy: testCommandPolicy,
      server: { publicBaseUrl: PUBLIC },
      channels: {
        line: {
          channelSecret: SECRET,
          channelAccessToken: line.token,
          allowedUsers: [ALICE],
          allowedGroups: [TEAM],
          apiBase: line.url,
          bodyLimitBytes: 8192,
        },
      },
    },
    extensions: [channelTestExtension(await testPng(600, 400))],
  });
});

after(async () => {
  await gw?.stop();
  await line?.stop();
  await agent?.stop();
});

describe("line signature", () => {
  it("matches @line/bot-sdk's validateSignature", () => {
    const body = JSON.stringify({ events: [lineTextEvent({ text: "héllo ✓", userId: ALICE })] });
    const ours = lineSignature(SECRET, Buffer.from(body));
    assert.equal(validateSignature(body, SECRET, ours), true);
    assert.equal(validateSignature(body, "another-secret", ours), false);
  });
});

describe("line ingress", () => {
  it("a text message flows to the agent and the answer uses the reply token", async () => {
    const replyToken = line.issueReplyToken();
    assert.equal(
      (await post([lineTextEvent({ text: "hello line", userId: ALICE, replyToken })])).status,
      200,
    );
    await waitFor(() => line.texts().includes("echo: hello line"), 10_000, "the reply");
    const call = line.calls.find((c) => c.body.messages.some((m) => m.text === "echo: hello line"))!;
    assert.equal(call.path, "/v2/bot/message/reply");
    assert.equal(call.body.replyToken, replyToken);
  });

  it("refuses unsigned requests even with no events, and wrong signatures; signed empty events are fine", async () => {
    const empty = JSON.stringify({ destination: "Ubot", events: [] });
    const unsigned = await post(empty, { signature: null });
    assert.equal(unsigned.status, 401);
    assert.match((await unsigned.json()).error, /missing X-Line-Signature/);
    const wrong = await post([lineTextEvent({ text: "forged", userId: ALICE })], {
      signature: lineWebhookSignature("not-the-secret", "x"),
    });
    assert.equal(wrong.status, 401);
    assert.equal((await post(empty)).status, 200, "the console's Verify button");
  });

  it("a redelivered event (same webhookEventId) is processed once", async () => {
    const event = lineTextEvent({ text: "just once", userId: ALICE, webhookEventId: "01HREDELIVERY0001" });
    assert.equal((await post([event])).status, 200);
    await waitFor(() => line.texts().includes("echo: just once"), 10_000, "first answer");
    const again = { ...event, deliveryContext: { isRedelivery: true } };
    assert.equal((await post([again])).status, 200);
    assert.equal(agent.requests.filter((r) => r.body.messages.at(-1)?.content === "just once").length, 1);
  });

  it("413 for an oversized body, 400 for malformed bodies, 200 for events it does not handle", async () => {
    assert.equal((await post([lineTextEvent({ text: "x".repeat(10_000), userId: ALICE })])).status, 413);
    assert.equal((await post("{oops")).status, 400);
    assert.equal((await post(JSON.stringify({ events: "nope" }))).status, 400);
    const pending = (await gw.gateway.store.inboxStats()).pending;
    const follow = {
      type: "follow",
      mode: "active",
      timestamp: Date.now(),
      webhookEventId: "01HFOLLOW",
      source: { type: "user", userId: ALICE },
      replyToken: "r",
    };
    const unsend = { ...follow, type: "unsend", webhookEventId: "01HUNSEND", unsend: { messageId: "1" } };
    assert.equal((await post([follow, unsend, { type: "brand-new-event" }])).status, 200);
    assert.equal((await gw.gateway.store.inboxStats()).pending, pending);
  });

  it("an untrusted user is refused without reaching the agent; an allowlisted group is trusted", async () => {
    const n = agent.requests.length;
    await post([lineTextEvent({ text: "let me in", userId: MALLORY, replyToken: line.issueReplyToken() })]);
    await waitFor(() => line.texts().find((t) => t.includes(MALLORY)), 10_000, "the refusal");
    assert.equal(agent.requests.length, n);
    await post([lineTextEvent({ text: "team question", userId: MALLORY, groupId: TEAM })]);
    await waitFor(() => line.texts().includes("echo: team question"), 10_000, "group answer");
    const push = line.calls.find((c) => c.body.messages.some((m) => m.text === "echo: team question"))!;
    assert.equal(push.path, "/v2/bot/message/push", "no reply token: pushed");
    assert.equal(push.body.to, TEAM);
  });

  it("an expired reply token falls back to push", async () => {
    const replyToken = line.issueReplyToken(0);
    await post([lineTextEvent({ text: "late answer", userId: ALICE, replyToken })]);
    await waitFor(() => line.texts().includes("echo: late answer"), 10_000, "pushed answer");
    const call = line.calls.find((c) => c.body.messages.some((m) => m.text === "echo: late answer"))!;
    assert.equal(call.path, "/v2/bot/message/push");
    assert.equal(call.body.to, ALICE);
    assert.match(call.retryKey ?? "", /^[0-9a-f-]{36}$/);
    assert.ok(line.refused.some((r) => r.message === "Invalid reply token"));
  });

  it("outbound 429 then success", async () => {
    line.rateLimitNext(1);
    await post([lineTextEvent({ text: "rate me", userId: ALICE, replyToken: line.issueReplyToken() })]);
    await waitFor(() => line.texts().includes("echo: rate me"), 15_000, "delivered after the 429");
    assert.ok(line.refused.some((r) => r.status === 429));
  });

  it("a reply of more than five messages whose second call is refused is retried without repeating the first", async () => {
    // Text plus five files (each a link note) makes six messages: the reply token takes five, a push the sixth.
    const files = [1, 2, 3, 4, 5].map((n) => ({
      dataBase64: Buffer.from(`file ${n}`).toString("base64"),
      mime: "text/plain",
      filename: `batch-${n}.txt`,
    }));
    line.rateLimitNextPush(1);
    await gw.gateway.deliver(
      {
        channel: "line",
        account: "default",
        conversationId: ALICE,
        replyContext: { replyToken: line.issueReplyToken(), replyTokenAt: Date.now() },
      },
      { text: "six messages", media: files },
      "r2-line-two-batches",
    );
    await waitFor(() => line.texts().some((t) => t.startsWith("batch-5.txt")), 15_000, "the second batch");
    assert.ok(line.refused.some((r) => r.status === 429 && r.path === "/v2/bot/message/push"));
    const sent = line.texts().filter((t) => t === "six messages" || /^batch-\d\.txt/.test(t));
    assert.equal(sent.length, 6, `each message once, got ${JSON.stringify(sent)}`);
  });

  it("images go out as https originals with a small preview served from signed media links", async () => {
    await post([lineTextEvent({ text: "/img", userId: ALICE, replyToken: line.issueReplyToken() })]);
    const call = await waitFor(
      () => line.calls.find((c) => c.body.messages.some((m) => m.type === "image")),
      10_000,
      "image message",
    );
    assert.deepEqual(
      call.body.messages.map((m) => m.type),
      ["text", "image", "text"],
    );
    const image = call.body.messages[1]!;
    for (const key of ["originalContentUrl", "previewImageUrl"]) {
      const url = String(image[key]);
      assert.ok(url.startsWith(`${PUBLIC}/media/`), url);
      const res = await fetch(gw.url + url.slice(PUBLIC.length));
      assert.equal(res.status, 200);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      if (key === "previewImageUrl") {
        assert.equal(meta.format, "jpeg");
        assert.ok(Math.max(meta.width!, meta.height!) <= 240);
      } else assert.equal(meta.width, 600);
    }
  });

  it("buttons become quick replies and a postback comes back as the action", async () => {
    await post([lineTextEvent({ text: "/pick", userId: ALICE, replyToken: line.issueReplyToken() })]);
    const call = await waitFor(
      () => line.calls.find((c) => c.body.messages.some((m) => m.quickReply)),
      10_000,
      "quick replies",
    );
    const items = (
      call.body.messages.at(-1)!.quickReply as { items: { action: { label: string; data: string } }[] }
    ).items;
    assert.deepEqual(
      items.map((i) => [i.action.label, i.action.data]),
      [
        ["Alpha", "pick:alpha"],
        ["Beta", "pick:beta"],
      ],
    );
    const postback = {
      type: "postback",
      mode: "active",
      timestamp: Date.now(),
      webhookEventId: "01HPOSTBACK0001",
      source: { type: "user", userId: ALICE },
      replyToken: line.issueReplyToken(),
      postback: { data: "pick:alpha" },
    };
    assert.equal((await post([postback])).status, 200);
    await waitFor(() => line.texts().includes("picked alpha"), 10_000, "the action's reply");
  });
});

/** How many accepted sends carried a text message with exactly this text. */
function sentCount(text: string): number {
  return line.texts().filter((t) => t === text).length;
}

function postbackEvent(o: { data: unknown; displayText?: string; userId?: string }) {
  return {
    type: "postback",
    mode: "active",
    timestamp: Date.now(),
    webhookEventId: `01HPB${Math.random().toString(36).slice(2)}`,
    source: { type: "user", userId: o.userId ?? ALICE },
    replyToken: line.issueReplyToken(),
    postback: { data: o.data, ...(o.displayText === undefined ? {} : { displayText: o.displayText }) },
  };
}

describe("line exactly once when a reply's outcome is in doubt", () => {
  it("a reply LINE took but whose answer was lost is not sent again (the fresh token's refusal means sent)", async () => {
    line.cutNext("after");
    await post([lineTextEvent({ text: "lost answer", userId: ALICE, replyToken: line.issueReplyToken() })]);
    await waitFor(() => sentCount("echo: lost answer") === 1, 10_000, "the reply");
    // The outbox retries the cut call (backoff about a second): it must find the token used and stop there.
    await waitFor(
      async () => (await gw.gateway.store.outboxStats()).pending === 0,
      15_000,
      "the retry to finish",
    );
    await waitFor(() => line.refused.some((r) => r.message === "Invalid reply token"), 10_000, "the refusal");
    assert.equal(sentCount("echo: lost answer"), 1, "answered exactly once");
  });

  it("a reply that never reached LINE is retried with the same reply token", async () => {
    const replyToken = line.issueReplyToken();
    line.cutNext("before");
    await post([lineTextEvent({ text: "never arrived", userId: ALICE, replyToken })]);
    await waitFor(() => sentCount("echo: never arrived") === 1, 15_000, "the retried reply");
    const call = line.calls.find((c) => c.body.messages.some((m) => m.text === "echo: never arrived"))!;
    assert.equal(call.path, "/v2/bot/message/reply");
    assert.equal(call.body.replyToken, replyToken);
  });

  it("in doubt with a token too old to tell used from expired: pushed once with the derived retry key", async () => {
    // The token has expired at LINE by the time the retry comes: a refusal no longer proves the reply went out.
    const replyToken = line.issueReplyToken(300);
    line.cutNext("before");
    await gw.gateway.deliver(
      {
        channel: "line",
        account: "default",
        conversationId: ALICE,
        replyContext: { replyToken, replyTokenAt: Date.now() - 30_000 },
      },
      { text: "old token in doubt" },
      "in-doubt-old-token",
    );
    await waitFor(() => sentCount("old token in doubt") === 1, 15_000, "the pushed answer");
    const call = line.calls.find((c) => c.body.messages.some((m) => m.text === "old token in doubt"))!;
    assert.equal(call.path, "/v2/bot/message/push");
    assert.equal(call.retryKey, retryKeyFor("in-doubt-old-token:0:0"), "derived from the outbox key");
  });

  it("a push LINE took but whose answer was lost is repeated with the same retry key; LINE's 409 counts as sent", async () => {
    line.cutNext("after");
    await gw.gateway.deliver(
      { channel: "line", account: "default", conversationId: ALICE },
      { text: "push answer lost" },
      "push-answer-lost",
    );
    await waitFor(() => line.refused.some((r) => r.status === 409), 15_000, "the repeated push");
    await waitFor(
      async () => (await gw.gateway.store.outboxStats()).pending === 0,
      15_000,
      "the delivery to finish",
    );
    assert.equal(sentCount("push answer lost"), 1);
  });
});

describe("line events the gateway must not trust or cannot read", () => {
  it("a correctly signed event 7 days old with a fresh webhookEventId is acknowledged and never reaches the agent", async () => {
    const n = agent.requests.length;
    const old = {
      ...lineTextEvent({ text: "from last week", userId: ALICE, replyToken: line.issueReplyToken() }),
      timestamp: Date.now() - 7 * 86_400_000 - 60_000,
    };
    assert.equal((await post([old])).status, 200);
    await post([lineTextEvent({ text: "after the old one", userId: ALICE })]);
    await waitFor(() => line.texts().includes("echo: after the old one"), 10_000, "the fresh message");
    assert.equal(agent.requests.length, n + 1);
    assert.ok(!line.texts().includes("echo: from last week"));
  });

  it("an event without webhookEventId is dropped and the batch's other events are processed", async () => {
    const { webhookEventId: _, ...noId } = lineTextEvent({ text: "no id", userId: ALICE });
    const res = await post([noId, lineTextEvent({ text: "beside the one without id", userId: ALICE })]);
    assert.equal(res.status, 200);
    await waitFor(() => line.texts().includes("echo: beside the one without id"), 10_000, "the other event");
    assert.ok(!agent.requests.some((r) => r.body.messages.at(-1)?.content === "no id"));
  });

  it("one malformed event (mentionees not a list) does not sink the webhook: the others are taken in", async () => {
    const bad = lineTextEvent({ text: "@bot malformed", userId: ALICE });
    (bad.message as Record<string, unknown>).mention = { mentionees: { index: 0, length: 4, isSelf: true } };
    const noSource = { ...lineTextEvent({ text: "no source", userId: ALICE }), source: "user" };
    const res = await post([bad, noSource, 42, null, lineTextEvent({ text: "well formed", userId: ALICE })]);
    assert.equal(res.status, 200);
    await waitFor(() => line.texts().includes("echo: well formed"), 10_000, "the readable event");
    const contents = agent.requests.map((r) => r.body.messages.at(-1)?.content);
    assert.ok(!contents.some((c) => c === "@bot malformed" || c === "malformed" || c === "no source"));
  });
});

describe("line postbacks clawgate did not create (rich menus)", () => {
  it("a postback with displayText is that user's message, and a displayed command runs", async () => {
    await post([postbackEvent({ data: "action=menu&item=1", displayText: "what is on the menu" })]);
    await waitFor(() => line.texts().includes("echo: what is on the menu"), 10_000, "the agent's answer");
    await post([postbackEvent({ data: "richmenu=help", displayText: "/help" })]);
    await waitFor(() => line.texts().some((t) => t.startsWith("Commands:\n")), 10_000, "the /help answer");
  });

  it("a postback without displayText gets the same note as other channels' stale buttons", async () => {
    await post([postbackEvent({ data: "action=buy&itemid=111" })]);
    await waitFor(() => line.texts().includes("This button is no longer valid."), 10_000, "the note");
  });

  it("our own quick reply still resolves as the button, not as its displayText", async () => {
    const n = agent.requests.length;
    await post([postbackEvent({ data: "pick:beta", displayText: "Beta" })]);
    await waitFor(() => line.texts().includes("picked beta"), 10_000, "the action's reply");
    assert.equal(agent.requests.length, n);
  });
});

describe("line client", () => {
  it("a push retried with the same retry key is accepted once (409 is success)", async () => {
    const client = new LineClient(line.url, line.token);
    const key = retryKeyFor("reply:test:0");
    const before = line.calls.length;
    await client.push(ALICE, [{ type: "text", text: "exactly once" }], key);
    await client.push(ALICE, [{ type: "text", text: "exactly once" }], key);
    assert.equal(line.calls.length, before + 1);
    assert.ok(line.refused.some((r) => r.status === 409));
  });
});

describe("line with the connector seed's environment", () => {
  it("listens on its own port at /line/webhook", async () => {
    const seeded = await startTestGateway({
      config: { agentUrl: agent.url },
      env: {
        OPENCLAW_CONNECTOR_LINE_CHANNEL_SECRET: SECRET,
        OPENCLAW_CONNECTOR_LINE_CHANNEL_ACCESS_TOKEN: line.token,
        OPENCLAW_CONNECTOR_LINE_ALLOWED_USERS: ALICE,
        OPENCLAW_CONNECTOR_LINE_PORT: "0",
        OPENCLAW_CONNECTOR_LINE_API_BASE: line.url,
      },
    });
    try {
      const body = JSON.stringify({ events: [lineTextEvent({ text: "via the seed port", userId: ALICE })] });
      const res = await fetch(`${seeded.gateway.channelListenerUrls[0]}/line/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-line-signature": lineWebhookSignature(SECRET, body),
        },
        body,
      });
      assert.equal(res.status, 200);
      await waitFor(() => line.texts().includes("echo: via the seed port"), 10_000, "answer");
    } finally {
      await seeded.stop();
    }
  });
});
