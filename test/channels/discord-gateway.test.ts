// The Discord gateway connection under stress: a dropped socket is resumed and the missed events replayed; close
// codes 4014 (intents) and 4004 (token) stop startup with what to do; a 429 delays only its channel; a button
// press is acknowledged in time even while the conversation is busy.
import assert from "node:assert/strict";
import { test } from "node:test";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { FakeDiscord } from "../fakes/discord.ts";
import { tempDir, waitFor } from "../helpers/gateway.ts";
import { DC_BOT, setupDiscord } from "./discord-helpers.ts";

test("a dropped socket is resumed, and a message sent meanwhile is replayed and answered", async () => {
  const t = await setupDiscord();
  try {
    const dm = "810000000000000001";
    t.fake.userMessage({ content: "before the drop", channelId: dm });
    await waitFor(() => t.fake.messagesIn(dm).some((m) => m.content === "echo: before the drop"), 10_000);
    t.fake.dropConnection();
    await waitFor(() => !t.fake.connected, 5000);
    t.fake.userMessage({ content: "while disconnected", channelId: dm });
    await waitFor(() => t.fake.messagesIn(dm).some((m) => m.content === "echo: while disconnected"), 15_000);
    const ops = t.fake.gatewayLog.map((e) => e.op);
    assert.equal(ops.filter((op) => op === 2).length, 1, "identified once");
    assert.equal(ops.filter((op) => op === 6).length, 1, "resumed once");
    assert.equal(t.fake.messagesIn(dm).length, 2, "nothing answered twice after the replay");
    assert.equal(t.gw.gateway.adapter("discord", "default")!.health().status, "running");
  } finally {
    await t.close();
  }
});

async function startExpectingFailure(fake: FakeDiscord, token = DC_BOT.token): Promise<Error> {
  const { config, env } = loadConfig({
    cwd: tempDir(),
    env: { OPENCLAW_CONNECTOR_DISCORD_TOKEN: token, OPENCLAW_CONNECTOR_DISCORD_API_BASE: fake.url },
    channelEnv: channelEnvMappers(),
  });
  config.server.port = 0;
  const gateway = await Gateway.create({ config, env, log: createLogger("silent", { pretty: false }) });
  try {
    await gateway.start();
  } catch (err) {
    return err as Error;
  } finally {
    await gateway.stop();
  }
  throw new Error("the gateway started");
}

test("close code 4014 stops startup and says to enable the Message Content intent", async () => {
  const fake = await new FakeDiscord(DC_BOT).start();
  fake.messageContentAllowed = false;
  try {
    const err = await startExpectingFailure(fake);
    assert.match(err.message, /4014.*Privileged Gateway Intents.*MESSAGE CONTENT INTENT/s);
  } finally {
    await fake.stop();
  }
});

test("close code 4004 stops startup and says to reset the token", async () => {
  const fake = await new FakeDiscord(DC_BOT).start();
  fake.closeNextIdentifyWith = 4004;
  try {
    const err = await startExpectingFailure(fake);
    assert.match(err.message, /rejected the bot token.*4004.*Reset the token/s);
    assert.ok(!err.message.includes(DC_BOT.token));
  } finally {
    await fake.stop();
  }
  const notAToken = await new FakeDiscord(DC_BOT).start();
  try {
    const err = await startExpectingFailure(notAToken, "definitely-not-a-discord-token-at-all");
    assert.match(err.message, /not a Discord bot token/);
  } finally {
    await notAToken.stop();
  }
});

test("a 429 delays only its channel", async () => {
  const t = await setupDiscord();
  try {
    const a = "820000000000000001";
    const b = "820000000000000002";
    t.fake.rateLimit(a, 4, 1);
    t.fake.userMessage({ content: "to a", channelId: a });
    t.fake.userMessage({ content: "to b", channelId: b });
    const other = await waitFor(() => t.fake.messagesIn(b).find((m) => m.content === "echo: to b"), 10_000);
    const limited = await waitFor(() => t.fake.messagesIn(a).find((m) => m.content === "echo: to a"), 15_000);
    const refused = t.fake.calls.find((c) => c.status === 429)!;
    assert.ok(
      limited.createdAt - refused.at >= 3900,
      `waited ${limited.createdAt - refused.at} ms for a 4 s limit`,
    );
    const otherDone = Math.max(other.createdAt, ...other.edits.map((e) => e.at));
    assert.ok(otherDone < limited.createdAt, "the other channel was answered meanwhile");
  } finally {
    await t.close();
  }
});

test("a button press is acknowledged within Discord's 3 s even when its conversation is busy", async () => {
  const t = await setupDiscord({
    agent: { headerDelayMs: 4000 },
    extensions: [
      {
        name: "slow-button",
        setup(gw) {
          gw.actions.register("slow", async () => ({ toast: "Done at last" }));
        },
      },
    ],
  });
  try {
    const dm = "830000000000000001";
    // The agent holds this DM's lane for 4 s; the press waits behind it.
    t.fake.userMessage({ content: "think hard", channelId: dm });
    await waitFor(() => t.agent.requests.length === 1, 5000);
    const fakeMessage = { id: "1", channel_id: dm, content: "x", files: [], createdAt: 0, edits: [] };
    const press = t.fake.pressButton(fakeMessage, "slow:1");
    const pressedAt = Date.now();
    const ack = await waitFor(
      () => t.fake.interactionResponses.find((r) => r.id === press.id),
      5000,
      "an ack",
    );
    assert.equal(ack.type, 6, "a deferred update, in time");
    assert.ok(ack.at - pressedAt < 3000, `acknowledged after ${ack.at - pressedAt} ms`);
    const follow = await waitFor(
      () => t.fake.followUps.find((f) => f.token === press.token),
      10_000,
      "the toast",
    );
    assert.equal(follow.body.content, "Done at last");
    assert.equal(follow.body.flags, 64, "only the presser sees it");
  } finally {
    await t.close();
  }
});
