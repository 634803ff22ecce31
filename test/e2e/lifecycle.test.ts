// Graceful shutdown drains in-flight work; /new cancels a reply in progress.
import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startChildGateway, startTestGateway, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

it("SIGTERM lets a reply in progress finish before the process exits", { timeout: 60_000 }, async () => {
  // ~1.2 s of streaming: long enough to send SIGTERM in the middle of it.
  const agent = await new FakeAgent({
    chunkSize: 1,
    chunkDelayMs: 40,
    reply: () => "a reply that takes a while",
  }).start();
  try {
    const gw = await startChildGateway({ config: { agentUrl: agent.url } });
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const sent = await chat.send(thread, "please answer");
    await waitFor(() => agent.requests.length === 1, 10_000, "the agent to be called");
    const code = await gw.kill("SIGTERM");
    assert.equal(code, 0, `clean exit; output:\n${gw.output()}`);
    const store = new SqliteStore(join(gw.dir, "data", "clawgate.db"));
    try {
      const msgs = await store.listMessages(`webchat:default:${thread}`);
      const reply = msgs.find((m) => m.eventId === sent.eventId && m.role === "assistant");
      assert.equal(reply?.content, "a reply that takes a while");
      assert.equal((await store.inboxStats()).done, 1);
    } finally {
      await store.close();
    }
    assert.match(gw.output(), /shutting down: draining in-flight work/);
  } finally {
    await agent.stop();
  }
});

it("/new cancels the reply being written in that conversation", { timeout: 30_000 }, async () => {
  const agent = await new FakeAgent({ chunkSize: 1, chunkDelayMs: 50, reply: () => "x".repeat(400) }).start();
  const gw = await startTestGateway({ config: { agentUrl: agent.url } });
  try {
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const slow = await chat.send(thread, "write a lot");
    await waitFor(() => agent.requests.length === 1, 10_000, "the agent to be called");
    const reset = await chat.send(thread, "/new");
    const r = await chat.reply(thread, reset.eventId, 5_000);
    assert.match(r.content, /new conversation/);
    const { messages } = await chat.messages(thread);
    assert.equal(
      messages.filter((m) => m.eventId === slow.eventId && m.role === "assistant").length,
      0,
      "the cancelled reply was not delivered",
    );
    assert.ok(
      messages.some((m) => m.eventId === slow.eventId && m.role === "user"),
      "the user's message is kept",
    );
  } finally {
    await gw.stop();
    await agent.stop();
  }
});
