// agent.maxConcurrent: many conversations in flight at once (inbox.concurrency), but no more requests to one
// agent than it allows; the others wait their turn and are all answered.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

test("agent.maxConcurrent bounds the requests in flight to the agent; every conversation is answered", {
  timeout: 60_000,
}, async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => {
    release = r;
  });
  const agent = await new FakeAgent({ hold }).start();
  const gw = await startTestGateway({ config: { agentUrl: agent.url, agent: { maxConcurrent: 2 } } });
  try {
    const chat = new WebchatClient(gw.url);
    const sent = [];
    for (let i = 0; i < 6; i++) {
      const thread = await chat.createThread();
      sent.push({ thread, text: `question ${i}`, ...(await chat.send(thread, `question ${i}`)) });
    }
    // All six are claimed (the inbox takes up to 64 conversations) while the agent holds two.
    await waitFor(
      async () => (await gw.gateway.store.inboxStats()).leased === 6 && agent.inflight === 2,
      20_000,
      "six conversations in flight, two of them at the agent",
    );
    release();
    for (const s of sent) {
      const reply = await chat.reply(s.thread, s.eventId, 20_000);
      assert.equal(reply.content, `echo: ${s.text}`);
    }
    assert.equal(agent.requests.length, 6);
    assert.equal(agent.maxInflight, 2);
  } finally {
    await gw.stop();
    await agent.stop();
  }
});
