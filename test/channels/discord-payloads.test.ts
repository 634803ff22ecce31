// What Discord sends that clawgate must not take at face value: events older than the dedup window (a resumed
// session replaying, a snowflake from long ago) are ignored, a dispatch with an unreadable shape is skipped
// without holding up the next one, and text cut to Discord's limits never ends in half an emoji.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { snowflakeAt } from "../fakes/discord.ts";
import { waitFor } from "../helpers/gateway.ts";
import { type DiscordSetup, setupDiscord } from "./discord-helpers.ts";

const DAY = 24 * 60 * 60_000;
const LABEL = `${"a".repeat(79)}😀`; // 81 UTF-16 units: the emoji straddles Discord's 80
const TOAST = `${"t".repeat(1999)}😀`; // 2001 units: the emoji straddles 2000

const extension: GatewayExtension = {
  name: "discord-payloads-test",
  setup(gw) {
    gw.commands.register({
      name: "/emoji",
      description: "A button whose label is too long",
      handler: () => ({ text: "Pick", buttons: [{ label: LABEL, value: "emj:1" }] }),
    });
    gw.actions.register("emj", async () => ({ toast: TOAST }));
  },
};

describe("discord payloads", () => {
  let t: DiscordSetup;
  before(async () => {
    t = await setupDiscord({
      extensions: [extension],
      config: { policy: { adminUsers: ["500"] }, retention: { finishedDays: 7 } },
    });
    await waitFor(() => t.fake.commands.get("global"), 10_000, "the commands published");
  });
  after(() => t.close());

  test("a message whose snowflake is older than the retention window is ignored", async () => {
    const dm = "860000000000000001";
    const before = t.agent.requests.length;
    t.fake.userMessage({ content: "from last month", channelId: dm, id: snowflakeAt(Date.now() - 8 * DAY) });
    t.fake.userMessage({ content: "from today", channelId: dm });
    await waitFor(() => t.fake.messagesIn(dm).some((m) => m.content === "echo: from today"), 10_000);
    assert.equal(t.agent.requests.length - before, 1, "only today's message reached the agent");
    assert.equal(t.fake.messagesIn(dm).length, 1);
  });

  test("a slash command older than the retention window is not answered", async () => {
    const dm = "860000000000000002";
    t.fake.slashCommand("help", { channelId: dm, id: snowflakeAt(Date.now() - 8 * DAY) });
    t.fake.userMessage({ content: "after it", channelId: dm });
    await waitFor(() => t.fake.messagesIn(dm).some((m) => m.content === "echo: after it"), 10_000);
    assert.equal(t.fake.messagesIn(dm).length, 1, "only the fresh message was answered");
  });

  test("dispatches with unreadable fields are skipped; the next message is answered", async () => {
    const dm = "860000000000000003";
    const author = { id: "500", username: "user500" };
    const base = { channel_id: dm, author, mentions: [], attachments: [] };
    for (const odd of [
      { content: 5 },
      { content: "x", mentions: "everyone" },
      { content: "x", attachments: { id: 1 } },
      { content: "x", author: null },
      { content: "x", id: undefined },
    ]) {
      t.fake.dispatch("MESSAGE_CREATE", { ...base, id: t.fake.snowflake(), ...odd });
    }
    t.fake.dispatch("MESSAGE_CREATE", null);
    t.fake.dispatch("INTERACTION_CREATE", { id: t.fake.snowflake(), type: 2, data: { name: 5 } });
    // Readable apart from odd optional parts: answered, with the unreadable attachment left out.
    t.fake.dispatch("MESSAGE_CREATE", {
      ...base,
      id: t.fake.snowflake(),
      content: "still here",
      mentions: [null, 7],
      attachments: [null, { id: "1" }],
    });
    await waitFor(() => t.fake.messagesIn(dm).some((m) => m.content === "echo: still here"), 10_000);
    // The two with an odd mention list or attachment list were readable otherwise, and answered.
    assert.deepEqual(
      t.fake.messagesIn(dm).map((m) => m.content),
      ["echo: x", "echo: x", "echo: still here"],
    );
    assert.ok(
      !t.agent.requests.some((r) => r.body.messages.at(-1)!.content === "5"),
      "a number as content never became a prompt",
    );
  });

  test("a channel message whose answer was lost is not posted twice (enforced nonce)", async () => {
    const dm = "860000000000000005";
    t.fake.loseNextAnswer("POST", new RegExp(`^/channels/${dm}/messages$`));
    t.fake.userMessage({ content: "/whoami", channelId: dm });
    const posts = () =>
      t.fake.calls.filter((c) => c.method === "POST" && c.path === `/channels/${dm}/messages`);
    await waitFor(
      async () => {
        const items = await t.gw.gateway.store.listOutbound({ sessionKey: `discord:default:${dm}` });
        return items.length === 1 && items[0]!.state === "done";
      },
      20_000,
      "the answer delivered",
    );
    assert.ok(posts().length >= 2, "the lost one was sent again");
    assert.equal(posts()[0]!.body.nonce, posts()[1]!.body.nonce, "with the same nonce");
    assert.equal(t.fake.messagesIn(dm).length, 1, "Discord kept one message");
  });

  test("a button label and a toast cut at Discord's limits keep the emoji whole or leave it out", async () => {
    const dm = "860000000000000004";
    t.fake.userMessage({ content: "/emoji", channelId: dm });
    const offer = await waitFor(() => t.fake.messagesIn(dm).find((m) => m.content === "Pick"), 10_000);
    const button = (offer.components as { components: { label: string; custom_id: string }[] }[])[0]!
      .components[0]!;
    assert.ok(button.label.length <= 80, `label of ${button.label.length}`);
    assert.ok(button.label.isWellFormed(), "no half emoji in the label");
    assert.equal(button.label, `${"a".repeat(79)}…`);
    const press = t.fake.pressButton(offer, button.custom_id);
    const response = await waitFor(() => t.fake.interactionResponses.find((r) => r.id === press.id), 10_000);
    const content = String(response.data?.content);
    assert.ok(content.length <= 2000);
    assert.ok(content.isWellFormed(), "no half emoji in the toast");
    assert.equal(content, "t".repeat(1999));
  });
});
