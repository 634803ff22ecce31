// limits.answerChars also holds for answers that arrive later, through an async agent callback: a 1 MB reply
// must not become hundreds of messages.
import assert from "node:assert/strict";
import { it } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { FakeAsyncAgent } from "../fakes/async-agent.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { expectMessage, newThread, say } from "../security/chat.ts";

it("an async callback reply over limits.answerChars is cut, and says so", async () => {
  const secret = "callback-secret-for-tests-0123";
  const agent = await new FakeAsyncAgent({ secret }).start();
  const gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      async: true,
      callbackPort: 0,
      callbackSecret: secret,
      limits: { answerChars: 2000 },
    },
    extensions: [securityExtension()],
  });
  try {
    const thread = await newThread(gw.url);
    const n = agent.requests.length;
    await say(gw.url, thread, "write me a book");
    await agent.waitForRequests(n + 1);
    assert.equal(await agent.answer(n, { reply: { text: "page ".repeat(200_000) } }), 200);
    const m = await expectMessage(gw.url, thread, (x) => x.role === "assistant", "the async reply");
    assert.ok(m.content.length <= 2000, `${m.content.length} characters`);
    assert.match(
      m.content,
      /The answer was cut here: it was 1000000 characters long; the limit is 2000\.\]$/,
    );
  } finally {
    await gw.stop();
    await agent.stop();
  }
});
