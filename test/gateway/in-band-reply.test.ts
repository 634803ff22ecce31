// In-band replies (WeChat passive XML, Kakao SkillResponse) when the inbox commit fails: the webhook that is
// waiting must get its answer ("nothing in-band") at once, and the retried event still replies through the outbox.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { InboxEffects } from "../../src/store/types.ts";
import { tempDir, waitFor } from "../helpers/gateway.ts";

/** A real SQLite store whose next completeInbound fails, as a store outage at that moment would. */
class FlakyCompleteStore extends SqliteStore {
  failNextComplete = false;
  override async completeInbound(id: string, owner: string, effects?: InboxEffects): Promise<boolean> {
    if (this.failNextComplete) {
      this.failNextComplete = false;
      throw new Error("database is locked");
    }
    return super.completeInbound(id, owner, effects);
  }
}

test("a failed inbox commit releases the in-band waiter instead of leaving the webhook hanging", async () => {
  const dir = tempDir();
  const { config, env } = loadConfig({ cwd: dir, env: {}, channelEnv: channelEnvMappers() });
  config.server.port = 0;
  const store = new FlakyCompleteStore(join(dir, "clawgate.db"));
  await store.migrate();
  const gateway = await Gateway.create({
    config,
    env,
    log: createLogger("silent", { pretty: false }),
    store,
  });
  await gateway.start();
  try {
    const event: InboundEvent = {
      id: "webchat:default:t1:inband-1",
      channel: "webchat",
      account: "default",
      conversation: { id: "t1", kind: "dm" },
      sender: { id: "local" },
      text: "/help",
      attachments: [],
      addressed: true,
      receivedAt: Date.now(),
    };
    store.failNextComplete = true;
    assert.equal(await gateway.ingest(event), "accepted");
    const waited = gateway.channelContext().awaitReply(event.id, 20_000);
    const outcome = await Promise.race([
      waited.then((m) => ({ settled: true, message: m })),
      new Promise<{ settled: false }>((r) => setTimeout(() => r({ settled: false }), 5_000).unref()),
    ]);
    assert.deepEqual(outcome, { settled: true, message: undefined }, "the waiter is told at once");
    await waitFor(
      async () => (await store.listOutbound({ sessionKey: "webchat:default:t1" })).length > 0,
      10_000,
      "the retried event to reply through the outbox",
    );
    assert.equal((await store.getInbound(event.id))?.state, "done");
  } finally {
    await gateway.stop();
  }
});
