// Promise 1 and 2 under fire: the gateway is killed with SIGKILL while messages are flowing, restarted on the
// same data directory, and every message it acknowledged is answered exactly once.
import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startChildGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

it("SIGKILL under load: every accepted message is answered exactly once after restart", {
  timeout: 120_000,
}, async () => {
  const agent = await new FakeAgent({ chunkSize: 8, chunkDelayMs: 2 }).start();
  const dir = tempDir("clawgate-crash-");
  const config = { agentUrl: agent.url, agent: { retries: 0 }, inbox: { leaseMs: 2000 } };
  try {
    let gw = await startChildGateway({ dir, config });
    let chat = new WebchatClient(gw.url);
    const threads = await Promise.all(Array.from({ length: 8 }, () => chat.createThread()));
    const accepted: { thread: string; eventId: string }[] = [];
    let n = 0;
    let stop = false;
    // Eight senders, one per thread, as fast as the gateway acknowledges.
    const senders = threads.map(async (thread) => {
      while (!stop) {
        try {
          const r = await chat.send(thread, `message ${n++}`);
          if (r.status === 202 && !r.duplicate) accepted.push({ thread, eventId: r.eventId });
        } catch {
          return; // the gateway died mid-request: that request was never acknowledged
        }
      }
    });
    await waitFor(() => accepted.length >= 150, 30_000, "150 accepted messages");
    await waitFor(() => agent.requests.length >= 20, 30_000, "the agent to be busy");
    await gw.kill("SIGKILL");
    stop = true;
    await Promise.all(senders);
    const beforeRestart = accepted.length;
    assert.ok(beforeRestart >= 150);

    gw = await startChildGateway({ dir, config });
    chat = new WebchatClient(gw.url);
    try {
      await waitFor(
        async () => {
          const lists = await Promise.all(threads.map((t) => chat.messages(t)));
          const answered = new Set(
            lists.flatMap((l) => l.messages.filter((m) => m.role === "assistant").map((m) => m.eventId)),
          );
          return accepted.every((a) => answered.has(a.eventId));
        },
        60_000,
        "every accepted message to be answered",
      );
    } finally {
      await gw.kill("SIGTERM");
    }

    const store = new SqliteStore(join(dir, "data", "clawgate.db"));
    try {
      const perEvent = new Map<string, number>();
      for (const t of threads) {
        for (const m of await store.listMessages(`webchat:default:${t}`)) {
          if (m.role === "assistant") perEvent.set(m.eventId!, (perEvent.get(m.eventId!) ?? 0) + 1);
          assert.notEqual(m.role, "error", `no message failed: ${m.content}`);
        }
      }
      for (const a of accepted)
        assert.equal(perEvent.get(a.eventId), 1, `${a.eventId} answered exactly once`);
      const stats = await store.inboxStats();
      assert.equal(stats.pending + stats.leased + stats.dead, 0, "inbox fully drained");
      const outbox = await store.outboxStats();
      assert.equal(outbox.dead, 0);
    } finally {
      await store.close();
    }
  } finally {
    await agent.stop();
  }
});
