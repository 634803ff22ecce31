// Floods that cost money, and messages the agent should never see: every reply here is counted at a channel
// fake (test/fakes/dm-channel.ts), as a platform would bill it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { channelModules } from "../../src/channels/registry.ts";
import { dmChannelModule, type SentRecord } from "../fakes/dm-channel.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { queuesDrained, startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";

const sent: SentRecord[] = [];
for (const name of ["flood", "floodwin", "floodbot"]) channelModules[name] = dmChannelModule(name, sent);

describe("floods and limits", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        agent: { stream: false },
        policy: { adminUsers: ["boss"] },
        limits: { inboundTextChars: 500, answerChars: 1000 },
        channels: {
          flood: { allowFrom: ["friend", "chatty", "big", "pic"] },
          floodbot: { allowFrom: ["friend"], botName: "MyComfyBot" },
        },
      },
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  const from = async (
    channel: string,
    senderId: string,
    text: string,
    extra: Record<string, unknown> = {},
  ) => {
    const res = await fetch(`${gw.url}/${channel}/in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ senderId, text, ...extra }),
    });
    assert.equal(res.status, 200);
  };
  const repliesTo = (channel: string, senderId: string) =>
    sent
      .filter((s) => s.to.channel === channel && s.to.conversationId === `dm-${senderId}`)
      .map((s) => s.message.text);
  /** Everything ingested has been processed and every delivery has gone out. */
  const settled = () => queuesDrained(gw.gateway.store, 60_000, "inbox and outbox drained");

  it("a stranger's 30 unknown commands get at most 3 replies", async () => {
    for (let i = 0; i < 30; i++) await from("flood", "stranger", `/nonsense${i}`);
    await settled();
    const replies = repliesTo("flood", "stranger");
    assert.ok(replies.length >= 1, "the stranger is told something");
    assert.ok(replies.length <= 3, `${replies.length} replies: ${replies.join(" | ")}`);
  });

  it("a stranger mixing commands, text and /help still gets at most 3 replies, and no agent call", async () => {
    const calls = agent.requests.length;
    for (let i = 0; i < 10; i++) {
      await from("flood", "mixer", "hello?");
      await from("flood", "mixer", "/help");
      await from("flood", "mixer", "/whoami");
    }
    await settled();
    assert.ok(repliesTo("flood", "mixer").length <= 3, repliesTo("flood", "mixer").join(" | "));
    assert.equal(agent.requests.length, calls);
  });

  it("an admin on no channel allowlist is not held to the strangers' budget", async () => {
    for (let i = 0; i < 5; i++) await from("flood", "boss", `/nope${i}`);
    await settled();
    assert.equal(repliesTo("flood", "boss").length, 5);
  });

  it("a trusted user flooding commands is told to slow down once per window", async () => {
    for (let i = 0; i < 30; i++) await from("flood", "chatty", i % 2 ? "/whoami" : `/unknown${i}`);
    await settled();
    const replies = repliesTo("flood", "chatty");
    const slowDowns = replies.filter((t) => /^Slow down/.test(t));
    assert.equal(slowDowns.length, 1, replies.join(" | "));
    assert.equal(replies.length, 11, "10 commands per minute are answered, then one notice");
  });

  it("a picture-only message on a channel that cannot download gets a note and never reaches the agent", async () => {
    const calls = agent.requests.length;
    await from("flood", "pic", "", {
      attachments: [{ kind: "image", platformId: "p1", mime: "image/jpeg" }],
    });
    await settled();
    assert.deepEqual(repliesTo("flood", "pic"), [
      "The picture could not be read: this channel does not download attachments.",
    ]);
    assert.equal(agent.requests.length, calls, "no empty agent call");
  });

  it("a message over limits.inboundTextChars is refused politely and not forwarded", async () => {
    const calls = agent.requests.length;
    await from("flood", "big", "x".repeat(501));
    await settled();
    const [reply] = repliesTo("flood", "big");
    assert.match(reply!, /501 characters long; the limit here is 500/);
    assert.equal(agent.requests.length, calls);
    await from("flood", "big", "y".repeat(500));
    await settled();
    assert.equal(agent.requests.length, calls + 1, "a message at the limit goes through");
  });

  it("an answer over limits.answerChars is cut, and the user is told", async () => {
    agent.options.reply = () => "word ".repeat(2000);
    try {
      await from("flood", "friend", "tell me everything");
      await settled();
    } finally {
      agent.options.reply = undefined;
    }
    const texts = repliesTo("flood", "friend");
    const total = texts.join("");
    assert.ok(total.length <= 1000, `${total.length} characters were sent`);
    assert.match(texts.at(-1)!, /The answer was cut here: it was 10000 characters long; the limit is 1000/);
  });

  it("commands naming another bot are not answered, with or without punctuation after the name", async () => {
    for (const text of ["/help@otherbot, x", "/help@otherbot x", "/help@", "/whoami@otherbot"])
      await from("floodbot", "friend", text);
    await settled();
    assert.deepEqual(repliesTo("floodbot", "friend"), []);
    await from("floodbot", "friend", "/whoami@mycomfybot, please");
    await settled();
    assert.equal(repliesTo("floodbot", "friend").length, 1);
    assert.match(repliesTo("floodbot", "friend")[0]!, /Your id: friend/);
  });
});

it("a stranger over the budget is answered again once the window has passed", async () => {
  const gw = await startTestGateway({
    config: { limits: { untrusted: { replies: 2, windowSec: 1 } }, channels: { floodwin: {} } },
  });
  try {
    const send = (text: string) =>
      fetch(`${gw.url}/floodwin/in`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ senderId: "s", text }),
      });
    const count = () => sent.filter((r) => r.to.channel === "floodwin").length;
    for (let i = 0; i < 8; i++) await send(`/nope${i}`);
    await waitFor(
      async () =>
        (await gw.gateway.store.inboxStats()).pending + (await gw.gateway.store.inboxStats()).leased === 0,
      30_000,
      "inbox drained",
    );
    await waitFor(async () => (await gw.gateway.store.outboxStats()).pending === 0, 30_000, "outbox drained");
    assert.equal(count(), 2, "the budget of 2 replies held");
    // Keep writing until the window has passed: an answer comes again.
    await waitFor(
      async () => {
        await send("/nope-again");
        await new Promise((r) => setTimeout(r, 200));
        return count() > 2;
      },
      30_000,
      "a reply after the window",
    );
  } finally {
    await gw.stop();
  }
});
