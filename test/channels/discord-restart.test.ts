// Restarts and replicas on Discord: the session is kept in the store, so a restarted gateway resumes and Discord
// replays what was sent while it was down; two gateways on one store connect the shard from one of them only.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeDiscord } from "../fakes/discord.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { DC_BOT } from "./discord-helpers.ts";

function options(fake: FakeDiscord, agent: FakeAgent, dir: string) {
  return {
    dir,
    config: { agentUrl: agent.url, channels: { discord: { leaseTtlMs: 1000, readyTimeoutMs: 5000 } } },
    env: {
      OPENCLAW_CONNECTOR_DISCORD_TOKEN: DC_BOT.token,
      OPENCLAW_CONNECTOR_DISCORD_ALLOWED_USERS: "500",
      OPENCLAW_CONNECTOR_DISCORD_API_BASE: fake.url,
    },
  };
}

test("a restart resumes the session and answers what arrived while it was down", async () => {
  const fake = await new FakeDiscord(DC_BOT).start();
  const agent = await new FakeAgent().start();
  const dir = tempDir();
  const dm = "840000000000000001";
  try {
    const first = await startTestGateway(options(fake, agent, dir));
    fake.userMessage({ content: "one", channelId: dm });
    await waitFor(() => fake.messagesIn(dm).some((m) => m.content === "echo: one"), 10_000);
    await new Promise((r) => setTimeout(r, 1100)); // the sequence is saved at most once a second
    await first.stop();
    fake.userMessage({ content: "two, while down", channelId: dm });
    const second = await startTestGateway(options(fake, agent, dir));
    await waitFor(() => fake.messagesIn(dm).some((m) => m.content === "echo: two, while down"), 10_000);
    await second.stop();
    const ops = fake.gatewayLog.map((e) => e.op);
    assert.equal(ops.filter((op) => op === 2).length, 1, "identified once, in the first run");
    assert.equal(ops.filter((op) => op === 6).length, 1, "the second run resumed");
    assert.equal(fake.messagesIn(dm).length, 2, "the replay answered nothing twice");
  } finally {
    await agent.stop();
    await fake.stop();
  }
});

test("two replicas on one store connect the shard once; the other takes over when it stops", async () => {
  const fake = await new FakeDiscord(DC_BOT).start();
  const agent = await new FakeAgent().start();
  const dir = tempDir();
  const dm = "840000000000000002";
  try {
    const a = await startTestGateway(options(fake, agent, dir));
    const b = await startTestGateway(options(fake, agent, dir));
    const connects = () => fake.gatewayLog.filter((e) => e.op === 2 || e.op === 6).length;
    assert.equal(connects(), 1, "only one replica connected");
    const holder = await a.gateway.store.leaseHolder(`discord:shard:${DC_BOT.id}:0`);
    const [active, standby] = holder?.owner === a.gateway.owner ? [a, b] : [b, a];
    await active.stop();
    await waitFor(() => connects() === 2, 10_000, "the standby replica to connect");
    await waitFor(() => fake.connected, 5000);
    fake.userMessage({ content: "after failover", channelId: dm });
    await waitFor(() => fake.messagesIn(dm).some((m) => m.content === "echo: after failover"), 10_000);
    await standby.stop();
  } finally {
    await agent.stop();
    await fake.stop();
  }
});
