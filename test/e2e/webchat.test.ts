// End to end through the real gateway: web chat API → inbox → pipeline → fake OpenAI-compatible agent → reply.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, tempDir } from "../helpers/gateway.ts";
import { UNREACHABLE_AGENT_URL } from "../helpers/unreachable.ts";
import { WebchatClient } from "../helpers/webchat.ts";

describe("web chat end to end", () => {
  const agent = new FakeAgent({ chunkSize: 2, chunkDelayMs: 5 });
  let gw: TestGateway;
  let chat: WebchatClient;

  before(async () => {
    await agent.start();
    gw = await startTestGateway({
      config: { agentUrl: agent.url, model: "m1", agent: { systemPrompt: "You are terse." } },
    });
    chat = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  it("a message goes to the agent and the reply streams back, then is stored", async () => {
    const thread = await chat.createThread();
    const { done: events } = await chat.subscribe(thread, (ev) => ev.type === "reply");
    const sent = await chat.send(thread, "hello agent");
    assert.equal(sent.status, 202);
    const seen = await events;
    const deltas = seen.filter((e) => e.type === "delta") as unknown as { offset: number; text: string }[];
    assert.ok(deltas.length >= 3, `expected streamed deltas, got ${deltas.length}`);
    // Deltas are increments (docs/webchat-api.md): each continues where the one before ended.
    let shown = "";
    for (const d of deltas) {
      assert.equal(d.offset, shown.length, "the reply grows while streaming");
      shown += d.text;
    }
    assert.equal(shown, "echo: hello agent");
    assert.equal(seen.at(-1)?.text, "echo: hello agent");
    const reply = await chat.reply(thread, sent.eventId);
    assert.equal(reply.role, "assistant");
    assert.equal(reply.content, "echo: hello agent");
    const req = agent.requests.at(-1)!;
    assert.equal(req.body.model, "m1");
    assert.equal(req.body.messages[0]?.content, "You are terse.");
  });

  it("the session's earlier turns are sent as context, and /new starts fresh", async () => {
    const thread = await chat.createThread();
    const a = await chat.send(thread, "first");
    await chat.reply(thread, a.eventId);
    const b = await chat.send(thread, "second");
    await chat.reply(thread, b.eventId);
    assert.deepEqual(
      agent.requests
        .at(-1)!
        .body.messages.slice(1)
        .map((m) => m.content),
      ["first", "echo: first", "second"],
    );
    const reset = await chat.send(thread, "/new");
    assert.match((await chat.reply(thread, reset.eventId)).content, /new conversation/);
    const c = await chat.send(thread, "third");
    await chat.reply(thread, c.eventId);
    assert.deepEqual(
      agent.requests
        .at(-1)!
        .body.messages.slice(1)
        .map((m) => m.content),
      ["third"],
    );
    const { messages } = await chat.messages(thread);
    assert.ok(
      messages.some((m) => m.content === "first"),
      "history stays visible after /new",
    );
  });

  it("a repeated clientMessageId is accepted once and answered once", async () => {
    const thread = await chat.createThread();
    const before = agent.requests.length;
    const one = await chat.send(thread, "only once", "client-msg-0001");
    const two = await chat.send(thread, "only once", "client-msg-0001");
    assert.equal(one.duplicate, false);
    assert.equal(two.duplicate, true);
    assert.equal(one.eventId, two.eventId);
    await chat.reply(thread, one.eventId);
    const { messages } = await chat.messages(thread);
    assert.equal(messages.filter((m) => m.role === "assistant").length, 1);
    assert.equal(agent.requests.length - before, 1);
  });

  it("messages in one conversation are answered in order", async () => {
    const thread = await chat.createThread();
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await chat.send(thread, `n${i}`));
    await chat.reply(thread, sent.at(-1)!.eventId);
    const { messages } = await chat.messages(thread);
    const replies = messages.filter((m) => m.role === "assistant").map((m) => m.content);
    assert.deepEqual(replies, ["echo: n0", "echo: n1", "echo: n2", "echo: n3", "echo: n4"]);
  });

  it("commands: /whoami answers, unknown commands and admin commands get clear refusals", async () => {
    const thread = await chat.createThread();
    const who = await chat.send(thread, "/whoami");
    assert.match(
      (await chat.reply(thread, who.eventId)).content,
      /Your id: local[\s\S]*Allowlisted: yes[\s\S]*Admin: no/,
    );
    const unknown = await chat.send(thread, "/frobnicate now");
    const u = await chat.reply(thread, unknown.eventId);
    assert.equal(u.role, "error");
    assert.match(u.content, /Unknown command \/frobnicate.*\/help/);
    const help = await chat.send(thread, "/help");
    const h = await chat.reply(thread, help.eventId);
    assert.match(h.content, /\/new/);
    const status = await chat.send(thread, "/status");
    assert.match(
      (await chat.reply(thread, status.eventId)).content,
      /Store: sqlite[\s\S]*Channel webchat\/default: running/,
    );
  });

  it("bad input gets a clear answer: malformed JSON, empty text, oversized body, bad thread id", async () => {
    const thread = await chat.createThread();
    const post = (body: string, path = `/api/threads/${thread}/messages`) =>
      fetch(`${gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const bad = await post("{not json");
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /JSON object/);
    assert.equal((await post(JSON.stringify({ text: "   " }))).status, 400);
    const big = await post(JSON.stringify({ text: "x".repeat(200_000) }));
    assert.equal(big.status, 413);
    const tooLong = await post(JSON.stringify({ text: "y".repeat(20_000) }));
    assert.equal(tooLong.status, 413);
    assert.equal((await post(JSON.stringify({ text: "hi" }), "/api/threads/..%2Fetc/messages")).status, 400);
    assert.equal((await fetch(`${gw.url}/api/nothing`)).status, 404);
    assert.equal((await fetch(`${gw.url}/api/threads`, { method: "PUT" })).status, 405);
  });

  it("serves health, readiness and Prometheus metrics", async () => {
    assert.deepEqual(await (await fetch(`${gw.url}/healthz`)).json(), { ok: true });
    assert.deepEqual(await (await fetch(`${gw.url}/readyz`)).json(), { ok: true, store: "sqlite" });
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /clawgate_inbound_total\{channel="webchat",result="accepted"\} \d+/);
    assert.match(metrics, /clawgate_queue_items\{queue="inbox",state="done"\} \d+/);
  });

  it("the page and its assets are served with a content security policy", async () => {
    const res = await fetch(`${gw.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.match(await res.text(), /<title>clawgate chat<\/title>/);
    assert.equal((await fetch(`${gw.url}/assets/chat.js`)).status, 200);
  });
});

describe("web chat when the agent is down, and across restarts", () => {
  it("says the agent is unreachable, keeps the message, and keeps history across a restart", async () => {
    const dir = tempDir();
    const down = UNREACHABLE_AGENT_URL;
    let gw = await startTestGateway({ dir, config: { agentUrl: down, agent: { retries: 0 } } });
    let chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const sent = await chat.send(thread, "are you there?");
    const reply = await chat.reply(thread, sent.eventId);
    assert.equal(reply.role, "error");
    assert.match(reply.content, /unreachable \(connection refused\)/);
    assert.match(reply.content, /Your message was kept/);
    await gw.stop();

    const agent = await new FakeAgent().start();
    try {
      gw = await startTestGateway({ dir, config: { agentUrl: agent.url } });
      chat = new WebchatClient(gw.url);
      const { messages } = await chat.messages(thread);
      assert.deepEqual(
        messages.map((m) => m.role),
        ["user", "error"],
        "history survives the restart",
      );
      const again = await chat.send(thread, "now?");
      assert.equal((await chat.reply(thread, again.eventId)).content, "echo: now?");
      assert.deepEqual(
        agent.requests.at(-1)!.body.messages.map((m) => m.content),
        ["are you there?", "now?"],
        "the kept message is part of the context",
      );
    } finally {
      await gw.stop();
      await agent.stop();
    }
  });
});
