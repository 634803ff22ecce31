// Slack end to end: signed Events API requests into a real gateway, replies out to a fake Slack Web API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeSlack, slackEventEnvelope, slackSignature } from "../fakes/slack.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { channelTestExtension, testCommandPolicy, testPng } from "./extension.ts";

const SECRET = "slack-signing-secret";
let slack: FakeSlack;
let agent: FakeAgent;
let gw: TestGateway;
let seq = 0;

function dm(text: string, user = "UALICE", extra: Record<string, unknown> = {}) {
  return {
    type: "message",
    channel: "DALICE",
    channel_type: "im",
    user,
    text,
    ts: `${1_800_000_000 + ++seq}.000200`,
    ...extra,
  };
}

async function post(
  body: string | object,
  o: { headers?: Record<string, string>; ts?: number; path?: string; url?: string } = {},
) {
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  return fetch(`${o.url ?? gw.url}${o.path ?? "/slack/events"}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...slackSignature(SECRET, raw, o.ts), ...o.headers },
    body: raw,
  });
}

/** The text Slack ends up showing for a message: the last update of it, or what was posted. */
function finalTexts(): string[] {
  return slack.calls
    .filter((c) => c.method === "chat.postMessage" || c.method === "chat.update")
    .map((c) => String(c.args.text));
}

before(async () => {
  slack = await new FakeSlack().start();
  agent = await new FakeAgent().start();
  gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      policy: testCommandPolicy,
      channels: {
        slack: {
          botToken: slack.token,
          signingSecret: SECRET,
          allowedUsers: ["UALICE"],
          apiBase: slack.apiBase,
          bodyLimitBytes: 8192,
        },
      },
    },
    extensions: [channelTestExtension()],
  });
});

after(async () => {
  await gw?.stop();
  await slack?.stop();
  await agent?.stop();
});

describe("slack ingress", () => {
  it("answers url_verification with the challenge", async () => {
    const res = await post({ type: "url_verification", challenge: "abc123", token: "x" });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { challenge: "abc123" });
  });

  it("a DM flows to the agent and the reply arrives at Slack", async () => {
    const res = await post(slackEventEnvelope(dm("hello there")));
    assert.equal(res.status, 200);
    await waitFor(() => finalTexts().includes("echo: hello there"), 10_000, "the reply at Slack");
    const posted = slack.callsTo("chat.postMessage").find((c) => String(c.args.text).startsWith("ech"));
    assert.equal(posted?.args.channel, "DALICE");
    assert.equal(posted?.args.thread_ts, undefined, "DMs stay flat");
    assert.ok(agent.requests.some((r) => r.body.messages.at(-1)?.content === "hello there"));
  });

  it("in a channel: ignored without a mention, answered in the thread with one", async () => {
    const before = agent.requests.length;
    const plain = {
      type: "message",
      channel: "CGEN",
      channel_type: "channel",
      user: "UALICE",
      text: "just chatting",
      ts: "1800000100.000100",
    };
    assert.equal((await post(slackEventEnvelope(plain))).status, 200);
    const ts = "1800000101.000100";
    const mention = { ...plain, text: "<@UBOT> what is up?", ts };
    // Slack sends both a message and an app_mention event for a mention: one reply, not two.
    assert.equal((await post(slackEventEnvelope(mention))).status, 200);
    assert.equal(
      (await post(slackEventEnvelope({ ...mention, type: "app_mention", channel_type: undefined }))).status,
      200,
    );
    await waitFor(() => finalTexts().includes("echo: what is up?"), 10_000, "threaded reply");
    const reply = slack.callsTo("chat.postMessage").find((c) => c.args.channel === "CGEN");
    assert.equal(reply?.args.thread_ts, ts, "the reply starts a thread under the message");
    assert.equal(agent.requests.length, before + 1, "unmentioned message and duplicate app_mention ignored");
    const unaddressed = await gw.gateway.store.getInbound("slack:default:1800000100.000100:CGEN");
    assert.ok(unaddressed, "the unmentioned message is committed (addressed=false), just not answered");
  });

  it("refuses a wrong signature, a missing one and a stale timestamp", async () => {
    const body = JSON.stringify(slackEventEnvelope(dm("forged")));
    const wrong = await post(body, { headers: { "x-slack-signature": `v0=${"0".repeat(64)}` } });
    assert.equal(wrong.status, 401);
    assert.match((await wrong.json()).error, /invalid Slack signature/);
    const missing = await fetch(`${gw.url}/slack/events`, { method: "POST", body });
    assert.equal(missing.status, 401);
    const stale = await post(body, { ts: Math.floor(Date.now() / 1000) - 301 });
    assert.equal(stale.status, 403);
    assert.match((await stale.json()).error, /stale/);
    const inbox = await gw.gateway.store.listInbound({ limit: 100 });
    assert.ok(!inbox.some((i) => i.payload.includes("forged")));
  });

  it("a retried event (X-Slack-Retry-Num) is delivered once", async () => {
    const event = slackEventEnvelope(dm("only once please"), { eventId: "EvRETRY1" });
    assert.equal((await post(event)).status, 200);
    await waitFor(() => finalTexts().includes("echo: only once please"), 10_000, "first reply");
    const retry = await post(event, {
      headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" },
    });
    assert.equal(retry.status, 200);
    const asked = agent.requests.filter((r) => r.body.messages.at(-1)?.content === "only once please");
    assert.equal(asked.length, 1);
  });

  it("an event the release before stored (channel-first id) is not handled again when Slack redelivers it", async () => {
    const msg = dm("asked before the upgrade");
    // What the previous release stored for it, under the id format of the time.
    const formerId = `slack:default:${msg.channel}:${msg.ts}`;
    const payload = JSON.stringify({ id: formerId, channel: "slack", text: msg.text });
    await gw.gateway.store.enqueueInbound({
      id: formerId,
      sessionKey: "slack:default:DALICE",
      payload,
      receivedAt: 0,
    });
    const before = agent.requests.length;
    const retry = await post(slackEventEnvelope(msg), {
      headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" },
    });
    assert.equal(retry.status, 200);
    assert.equal(await gw.gateway.store.getInbound(`slack:default:${msg.ts}:${msg.channel}`), undefined);
    // A message after it is answered, so the worker had its chance to take the redelivered one.
    assert.equal((await post(slackEventEnvelope(dm("and after it")))).status, 200);
    await waitFor(() => finalTexts().includes("echo: and after it"), 10_000, "the next reply");
    assert.ok(!agent.requests.slice(before).some((r) => r.body.messages.at(-1)?.content === msg.text));
  });

  it("413 for an oversized body, 400 for malformed JSON, 200 for unknown event types", async () => {
    const big = await post(slackEventEnvelope(dm("x".repeat(10_000))));
    assert.equal(big.status, 413);
    const bad = await post("{not json");
    assert.equal(bad.status, 400);
    const before = (await gw.gateway.store.inboxStats()).pending;
    assert.equal(
      (await post(slackEventEnvelope({ type: "reaction_added", user: "UALICE", reaction: "+1" }))).status,
      200,
    );
    assert.equal((await post({ type: "app_rate_limited", minute_rate_limited: 1 })).status, 200);
    assert.equal(
      (await post(slackEventEnvelope(dm("edited", "UALICE", { subtype: "message_changed" })))).status,
      200,
    );
    assert.equal((await gw.gateway.store.inboxStats()).pending, before);
  });

  it("an event whose event_time is older than retention.finishedDays is acknowledged and never answered", async () => {
    const n = agent.requests.length;
    const eightDaysAgo = Math.floor(Date.now() / 1000) - 8 * 86_400;
    const res = await post(slackEventEnvelope(dm("from last week"), { eventTime: eightDaysAgo }));
    assert.equal(res.status, 200, "Slack must stop retrying it");
    assert.equal((await post(slackEventEnvelope(dm("from today")))).status, 200);
    await waitFor(() => finalTexts().includes("echo: from today"), 10_000, "the fresh reply");
    const inbox = await gw.gateway.store.listInbound({ limit: 200 });
    assert.ok(!inbox.some((i) => i.payload.includes("from last week")), "the stale event was not queued");
    assert.equal(agent.requests.length, n + 1);
  });

  it("a malformed event in a signed envelope is acknowledged and skipped; the next one is answered", async () => {
    const before = (await gw.gateway.store.inboxStats()).pending;
    for (const bad of [
      dm("bad file", "UALICE", { files: [{ id: "F1", mimetype: 5 }] }),
      dm("null file", "UALICE", { files: [null] }),
      dm("bad channel", "UALICE", { channel: "" }),
      dm("numeric ts", "UALICE", { ts: 1800000000.5 }),
    ]) {
      const res = await post(slackEventEnvelope(bad));
      assert.equal(res.status, 200, `acknowledged: ${JSON.stringify(bad)}`);
    }
    const notAnObject = await post({ ...slackEventEnvelope(dm("x")), event: "not an event" });
    assert.equal(notAnObject.status, 200);
    assert.equal((await gw.gateway.store.inboxStats()).pending, before, "nothing was queued");
    const inbox = await gw.gateway.store.listInbound({ limit: 200 });
    assert.ok(!inbox.some((i) => i.id.includes("undefined") || i.id.includes("::")));
    const health = gw.gateway.adapter("slack", "default")!.health();
    assert.match(health.lastError?.message ?? "", /could not read a signed event_callback payload.*event/);
    assert.equal((await post(slackEventEnvelope(dm("after the bad ones")))).status, 200);
    await waitFor(() => finalTexts().includes("echo: after the bad ones"), 10_000, "the good reply");
  });

  it("ignores bot messages and the bot's own messages", async () => {
    const n = agent.requests.length;
    await post(slackEventEnvelope(dm("from a bot", "UOTHERBOT", { bot_id: "B9" })));
    await post(slackEventEnvelope(dm("from myself", "UBOT")));
    const inbox = await gw.gateway.store.listInbound({ limit: 200 });
    assert.ok(!inbox.some((i) => i.payload.includes("from a bot") || i.payload.includes("from myself")));
    assert.equal(agent.requests.length, n);
  });

  it("an untrusted sender is not passed to the agent and is told why", async () => {
    const n = agent.requests.length;
    await post(slackEventEnvelope({ ...dm("let me in", "UMALLORY"), channel: "DMALLORY" }));
    await waitFor(
      () => slack.callsTo("chat.postMessage").find((c) => c.args.channel === "DMALLORY"),
      10_000,
      "the refusal",
    );
    const refusal = slack.callsTo("chat.postMessage").find((c) => c.args.channel === "DMALLORY");
    assert.match(String(refusal?.args.text), /allowlist/);
    assert.match(String(refusal?.args.text), /UMALLORY/);
    assert.equal(agent.requests.length, n);
  });

  it("Block Kit buttons go out, and a press comes back as an action", async () => {
    await post(slackEventEnvelope(dm("/pick")));
    const msg = await waitFor(
      () =>
        slack
          .callsTo("chat.postMessage")
          .find((c) => Array.isArray(c.args.blocks) && c.args.text === "Pick one"),
      10_000,
      "buttons",
    );
    const blocks = msg.args.blocks as {
      type: string;
      elements?: { value: string; text: { text: string } }[];
    }[];
    const actions = blocks.find((b) => b.type === "actions")!;
    assert.deepEqual(
      actions.elements!.map((e) => [e.text.text, e.value]),
      [
        ["Alpha", "pick:alpha"],
        ["Beta", "pick:beta"],
      ],
    );

    const payload = {
      type: "block_actions",
      user: { id: "UALICE", username: "alice" },
      channel: { id: "DALICE" },
      container: { type: "message", message_ts: "1800000999.000100", channel_id: "DALICE" },
      message: { ts: "1800000999.000100", text: "Pick one" },
      actions: [
        {
          action_id: "clawgate_1",
          block_id: "clawgate_actions",
          value: "pick:beta",
          type: "button",
          action_ts: "1800001000.123456",
        },
      ],
      trigger_id: "t1",
      response_url: "https://hooks.slack.invalid/actions/x",
    };
    const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await fetch(`${gw.url}/slack/interactivity`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...slackSignature(SECRET, form) },
      body: form,
    });
    assert.equal(res.status, 200);
    await waitFor(() => finalTexts().includes("picked beta"), 10_000, "the action's reply");
    await waitFor(
      () => slack.callsTo("chat.postEphemeral").find((c) => c.args.text === "noted"),
      10_000,
      "toast",
    );
    const unsigned = await fetch(`${gw.url}/slack/interactivity`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form,
    });
    assert.equal(unsigned.status, 401);
  });

  it("images go through files.getUploadURLExternal, the upload URL and files.completeUploadExternal", async () => {
    await post(
      slackEventEnvelope({
        ...dm("<@UBOT> /img"),
        channel: "CIMG",
        channel_type: "channel",
        ts: "1800002000.000100",
      }),
    );
    const done = await waitFor(
      () => slack.callsTo("files.completeUploadExternal")[0],
      10_000,
      "upload completed",
    );
    assert.equal(done.args.channel_id, "CIMG");
    assert.equal(done.args.thread_ts, "1800002000.000100");
    assert.equal(done.args.initial_comment, "a pic");
    const asked = slack.callsTo("files.getUploadURLExternal")[0]!;
    assert.match(asked.contentType, /x-www-form-urlencoded/);
    assert.deepEqual(slack.uploads[0]!.bytes, await testPng());
    assert.ok(finalTexts().includes("here is the picture"));
  });

  it("outbound 429: waits for Retry-After, then delivers", async () => {
    slack.rateLimitNext(2, 1, ["chat.postMessage", "chat.update"]);
    await post(slackEventEnvelope(dm("slow down")));
    await waitFor(() => finalTexts().includes("echo: slow down"), 15_000, "the reply after the 429s");
    assert.equal(slack.rateLimited.length, 2);
    const delivered = slack.calls.find((c) => String(c.args.text) === "echo: slow down")!;
    assert.ok(delivered.at - slack.rateLimited[0]!.at >= 900, "respects Retry-After");
  });

  it("a 429 on the upload after the text was posted: the retry uploads the file, not the text again", async () => {
    slack.rateLimitNext(1, 1, ["files.getUploadURLExternal"]);
    const png = await testPng();
    await gw.gateway.deliver(
      { channel: "slack", account: "default", conversationId: "CRETRY" },
      {
        text: "text before a file",
        media: [{ dataBase64: png.toString("base64"), mime: "image/png", filename: "retry.png" }],
      },
      "r2-slack-text-then-upload",
    );
    await waitFor(
      () => slack.callsTo("files.completeUploadExternal").find((c) => c.args.channel_id === "CRETRY"),
      15_000,
      "the upload after the 429",
    );
    const posts = slack
      .callsTo("chat.postMessage")
      .filter((c) => c.args.channel === "CRETRY" && c.args.text === "text before a file");
    assert.equal(posts.length, 1, "the text is posted once");
  });
});

describe("slack with the connector seed's environment", () => {
  it("opens its own listener on _PORT with the seed's path and answers there", async () => {
    const env = {
      OPENCLAW_CONNECTOR_SLACK_BOT_TOKEN: slack.token,
      OPENCLAW_CONNECTOR_SLACK_SIGNING_SECRET: SECRET,
      OPENCLAW_CONNECTOR_SLACK_ALLOWED_USERS: "UALICE, UBOB",
      OPENCLAW_CONNECTOR_SLACK_PORT: "0",
      OPENCLAW_CONNECTOR_SLACK_REQUIRE_MENTION: "false",
      OPENCLAW_CONNECTOR_SLACK_API_BASE: slack.apiBase,
    };
    const seeded = await startTestGateway({ config: { agentUrl: agent.url }, env });
    try {
      const [own] = seeded.gateway.channelListenerUrls;
      assert.ok(own, "a channel listener is open");
      const event = {
        type: "message",
        channel: "CSEED",
        channel_type: "channel",
        user: "UBOB",
        text: "no mention needed",
        ts: "1800003000.000100",
      };
      const res = await post(slackEventEnvelope(event), { url: own });
      assert.equal(res.status, 200);
      await waitFor(
        () => finalTexts().includes("echo: no mention needed"),
        10_000,
        "reply via the seed listener",
      );
    } finally {
      await seeded.stop();
    }
  });
});
