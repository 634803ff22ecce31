// A kill in the worst moment: Discord has created the answer to a slash command, the gateway never heard back and
// never recorded it. After a restart the outbox delivers the item again; the attempt written before the call
// makes the adapter look in the channel first, find the message and not post it a second time.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeDiscord, snowflakeAt } from "../fakes/discord.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startChildGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { DC_BOT } from "./discord-helpers.ts";

test("SIGKILL after Discord created a slash command's answer: after a restart it is not sent again", {
  timeout: 90_000,
}, async () => {
  const fake = await new FakeDiscord(DC_BOT).start();
  const agent = await new FakeAgent().start();
  const dm = "870000000000000001";
  const opts = {
    dir: tempDir("clawgate-dc-crash-"),
    config: {
      agentUrl: agent.url,
      outbox: { leaseMs: 2000 },
      channels: { discord: { leaseTtlMs: 1000, readyTimeoutMs: 10_000 } },
    },
    env: {
      OPENCLAW_CONNECTOR_DISCORD_TOKEN: DC_BOT.token,
      OPENCLAW_CONNECTOR_DISCORD_ALLOWED_USERS: "500",
      OPENCLAW_CONNECTOR_DISCORD_API_BASE: fake.url,
    },
  };
  const posts = () => fake.calls.filter((c) => c.method === "POST" && c.path === `/channels/${dm}/messages`);
  let gw = await startChildGateway(opts);
  try {
    await waitFor(() => fake.commands.get("global"), 15_000, "the commands published");
    // Twenty minutes old: the token has expired, so the answer is a channel message (no idempotency key there).
    fake.loseNextAnswer("POST", new RegExp(`^/channels/${dm}/messages$`), { hold: true });
    fake.slashCommand("whoami", { channelId: dm, id: snowflakeAt(Date.now() - 20 * 60_000) });
    await waitFor(() => fake.messagesIn(dm).length === 1, 15_000, "the answer created at Discord");
    await gw.kill("SIGKILL");
    gw = await startChildGateway(opts);
    // The restarted gateway either looks for the interrupted answer or (wrongly) posts it again.
    await waitFor(
      () =>
        fake.calls.some(
          (c) => c.method === "GET" && c.path === `/channels/${dm}/messages` && c.status === 200,
        ) || posts().length > 1,
      30_000,
      "the restarted gateway delivering the item again",
    );
    await new Promise((r) => setTimeout(r, 1000)); // a late duplicate would show up here
  } finally {
    await gw.kill("SIGTERM");
    await agent.stop();
    await fake.stop();
  }
  assert.equal(posts().length, 1, "posted once, before the kill");
  assert.equal(fake.messagesIn(dm).length, 1);
  assert.match(fake.messagesIn(dm)[0]!.content, /500/);
});
