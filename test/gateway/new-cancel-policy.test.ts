// /new cancels the reply in progress at once (before its turn in the lane) — but only for a sender the command
// policy lets run /new: a denied /new must not cut off someone's reply.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

test("a /new the policy denies does not cancel the reply being written", { timeout: 30_000 }, async () => {
  const agent = await new FakeAgent({ chunkSize: 4, chunkDelayMs: 30, reply: () => "y".repeat(160) }).start();
  // /new is made an admin command, and the web chat user is no admin.
  const gw = await startTestGateway({
    config: { agentUrl: agent.url, policy: { overrides: { "/new": "admin" } } },
  });
  try {
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const slow = await chat.send(thread, "write a lot");
    await waitFor(() => agent.requests.length === 1, 10_000, "the agent to be called");
    const reset = await chat.send(thread, "/new");
    const denied = await chat.reply(thread, reset.eventId, 10_000);
    assert.match(denied.content, /Access denied: \/new is an admin command/);
    const { messages } = await chat.messages(thread);
    const reply = messages.find((m) => m.eventId === slow.eventId && m.role === "assistant");
    assert.equal(reply?.content, "y".repeat(160), "the reply in progress was delivered in full");
  } finally {
    await gw.stop();
    await agent.stop();
  }
});
