// Restarts and replicas: the offset lives in the store (a restart neither skips nor re-asks from 0), the command
// menu is published only when it changed, two gateways on one store poll a bot from one replica only, and a bad
// token stops startup with an error that says what to do.
import assert from "node:assert/strict";
import { test } from "node:test";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { FakeTelegram } from "../fakes/telegram.ts";
import { startTestGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { BOT } from "./telegram-helpers.ts";

function options(fake: FakeTelegram, agent: FakeAgent, dir: string) {
  return {
    dir,
    config: { agentUrl: agent.url, channels: { telegram: { leaseTtlMs: 1000, pollTimeoutSec: 2 } } },
    env: {
      OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: BOT.token,
      OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_USERS: "42",
      OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: fake.url,
    },
  };
}

test("a restart resumes at the stored offset and does not republish an unchanged command menu", async () => {
  const fake = await new FakeTelegram([BOT]).start();
  const agent = await new FakeAgent().start();
  const dir = tempDir();
  try {
    const first = await startTestGateway(options(fake, agent, dir));
    const u1 = fake.userMessage(BOT.token, { text: "before restart", userId: 42 });
    await waitFor(() => fake.messages(BOT.token, 42).some((m) => m.text === "echo: before restart"), 10_000);
    await first.stop();
    fake.userMessage(BOT.token, { text: "while down", userId: 42 });
    const callsBefore = fake.callsTo("getUpdates").length;
    const second = await startTestGateway(options(fake, agent, dir));
    await waitFor(() => fake.messages(BOT.token, 42).some((m) => m.text === "echo: while down"), 10_000);
    await second.stop();
    const resumed = fake.callsTo("getUpdates")[callsBefore]!;
    assert.equal(
      Number(resumed.params.offset),
      (u1.update_id as number) + 1,
      "the stored offset, not 0 or none",
    );
    assert.equal(fake.messages(BOT.token, 42).length, 2, "nothing answered twice");
    assert.equal(fake.callsTo("setMyCommands").length, 1, "the unchanged menu is not sent again");
  } finally {
    await agent.stop();
    await fake.stop();
  }
});

test("two replicas on one store: one polls, the other takes over when it stops", async () => {
  const fake = await new FakeTelegram([BOT]).start();
  const agent = await new FakeAgent().start();
  const dir = tempDir();
  try {
    const a = await startTestGateway(options(fake, agent, dir));
    const b = await startTestGateway(options(fake, agent, dir));
    for (let i = 0; i < 5; i++) fake.userMessage(BOT.token, { text: `r${i}`, userId: 42 });
    await waitFor(() => fake.messages(BOT.token, 42).length === 5, 10_000, "five answers");
    const holder = await a.gateway.store.leaseHolder(`telegram:poller:${BOT.id}`);
    const [first, second] = holder?.owner === a.gateway.owner ? [a, b] : [b, a];
    await first.stop();
    fake.userMessage(BOT.token, { text: "after failover", userId: 42 });
    await waitFor(
      () => fake.messages(BOT.token, 42).some((m) => m.text === "echo: after failover"),
      10_000,
      "the standby replica to take over",
    );
    await second.stop();
    assert.equal(fake.calls.filter((c) => c.status === 409).length, 0, "never two consumers at once");
    assert.equal(fake.messages(BOT.token, 42).length, 6, "each update answered once");
  } finally {
    await agent.stop();
    await fake.stop();
  }
});

test("a token Telegram rejects stops startup with a clear error", async () => {
  const fake = await new FakeTelegram([BOT]).start();
  try {
    // Built by hand so the half-started gateway can be stopped after start() throws.
    const { config, env } = loadConfig({
      cwd: tempDir(),
      env: {
        OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: "999:wrongtoken",
        OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: fake.url,
      },
      channelEnv: channelEnvMappers(),
    });
    config.server.port = 0;
    const gateway = await Gateway.create({ config, env, log: createLogger("silent", { pretty: false }) });
    await assert.rejects(
      gateway.start(),
      (err: Error) =>
        /rejected the bot token.*@BotFather/s.test(err.message) && !err.message.includes("wrongtoken"),
    );
    await gateway.stop();
    await assert.rejects(
      startTestGateway({ dir: tempDir(), env: { OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: "not a token" } }),
      /botToken: expected a bot token like 123456:ABC/,
    );
  } finally {
    await fake.stop();
  }
});
