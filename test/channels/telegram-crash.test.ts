// Promises 1 and 2 for long polling: the gateway is SIGKILLed while updates are in flight (committed to the inbox,
// their offset confirmed, the agent still working on them) and more keep arriving while it is down. After a
// restart on the same directory every update is answered exactly once, counted at the fake Bot API.
//
// The kill is timed while the agent works and no sendMessage is under way: Telegram has no idempotency key, so a
// kill in the milliseconds between Telegram accepting a message and the outbox recording it would send it again
// (docs/channels/telegram.md says so); that window is not what this test is about.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeTelegram } from "../fakes/telegram.ts";
import { startChildGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { BOT } from "./telegram-helpers.ts";

const CHATS = Array.from({ length: 24 }, (_, i) => 7000 + i);

test("SIGKILL with updates in flight: after a restart every update is answered exactly once", {
  timeout: 60_000,
}, async () => {
  const fake = await new FakeTelegram([BOT]).start();
  // Slow, non-streamed answers: the kill finds work at the agent, and each reply is a single sendMessage.
  const agent = await new FakeAgent({ noStream: true, headerDelayMs: 500 }).start();
  const dir = tempDir("clawgate-tg-crash-");
  const opts = {
    dir,
    config: {
      agentUrl: agent.url,
      agent: { retries: 0 },
      inbox: { leaseMs: 2000, concurrency: 8 },
      outbox: { leaseMs: 3000 },
      channels: { telegram: { leaseTtlMs: 1000, pollTimeoutSec: 2 } },
    },
    env: {
      OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: BOT.token,
      OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_USERS: CHATS.join(","),
      OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: fake.url,
    },
  };
  let n = 0;
  const round = () => {
    for (const chat of CHATS) fake.userMessage(BOT.token, { text: `u${n++}`, userId: chat });
  };
  try {
    let gw = await startChildGateway(opts);
    round();
    await waitFor(() => fake.messages(BOT.token).length === 24, 20_000, "the first round answered");
    round();
    // The second round is committed and its first eight are at the agent; none of it has been sent yet.
    await waitFor(() => agent.requests.length >= 32, 10_000, "work in flight at the agent");
    assert.equal(fake.messages(BOT.token).length, 24, "killed before any second-round reply went out");
    await gw.kill("SIGKILL");
    // Whether Telegram was already told (the next getUpdates carried the new offset) depends on the moment: if
    // not, the restarted poller gets the round again and the inbox drops what it already holds.
    round(); // a third round arrives while the gateway is down
    gw = await startChildGateway(opts);
    try {
      await waitFor(
        () => fake.messages(BOT.token).length >= n,
        30_000,
        `all ${n} updates answered (have ${fake.messages(BOT.token).length})`,
      );
      await new Promise((r) => setTimeout(r, 500)); // a late duplicate would show up here
    } finally {
      await gw.kill("SIGTERM");
    }
    const perUpdate = new Map<string, number>();
    for (const m of fake.messages(BOT.token)) perUpdate.set(m.text, (perUpdate.get(m.text) ?? 0) + 1);
    for (let i = 0; i < n; i++) assert.equal(perUpdate.get(`echo: u${i}`), 1, `u${i} answered exactly once`);
    assert.equal(fake.messages(BOT.token).length, n, "no other messages");
    assert.ok(agent.requests.length > n, "the interrupted answers were computed again, and sent once");
  } finally {
    await agent.stop();
    await fake.stop();
  }
});
