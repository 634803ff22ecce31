// Finished queue items do not pile up forever: past `retention.finishedDays` they are deleted; history stays.
import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

it("a gateway prunes inbox and outbox items finished longer ago than the retention period", async () => {
  const agent = await new FakeAgent().start();
  const dir = tempDir("clawgate-retention-");
  const config = { agentUrl: agent.url, retention: { finishedDays: 7 } };
  try {
    let gw = await startTestGateway({ dir, config });
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const old = await chat.send(thread, "long ago");
    await chat.reply(thread, old.eventId);
    await waitFor(async () => (await gw.gateway.store.outboxStats()).done === 1, 5000, "the reply delivered");
    await gw.stop();

    // Pretend that exchange finished eight days ago.
    const db = new DatabaseSync(join(dir, "data", "clawgate.db"));
    const eightDaysAgo = Date.now() - 8 * 86_400_000;
    db.prepare("UPDATE inbox SET updated_at = ?").run(eightDaysAgo);
    db.prepare("UPDATE outbox SET updated_at = ?").run(eightDaysAgo);
    db.close();

    gw = await startTestGateway({ dir, config });
    try {
      const recent = await new WebchatClient(gw.url).send(thread, "just now");
      await waitFor(
        async () => (await gw.gateway.store.getInbound(old.eventId)) === undefined,
        5000,
        "pruning",
      );
      await new WebchatClient(gw.url).reply(thread, recent.eventId);
      assert.equal((await gw.gateway.store.getInbound(recent.eventId))?.state, "done", "recent items stay");
      const { messages } = await new WebchatClient(gw.url).messages(thread);
      assert.ok(
        messages.some((m) => m.content === "long ago"),
        "history is not touched",
      );
    } finally {
      await gw.stop();
    }
  } finally {
    await agent.stop();
  }
});
