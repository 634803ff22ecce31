// Discord end to end against the fake: gateway socket → inbox → agent → streamed reply by edits, guild mention
// rules, threads as sessions, allowlisted channels, buttons as message components, image attachments.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { waitFor } from "../helpers/gateway.ts";
import { type DiscordSetup, setupDiscord } from "./discord-helpers.ts";

const STREAMED = "Streaming on Discord: "
  .concat("the quick brown fox jumps over the lazy dog ".repeat(4))
  .trim();
const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const GUILD = "700000000000000001";
const GENERAL = "710000000000000001";
const QUIET = "710000000000000002";
const THREAD_A = "720000000000000001";
const THREAD_B = "720000000000000002";

const pressed: string[] = [];
const extension: GatewayExtension = {
  name: "discord-test",
  setup(gw) {
    gw.commands.register({
      name: "/choose",
      description: "Offer buttons",
      handler: () => ({
        text: "Pick one",
        buttons: [
          { label: "Approve", value: "dctest:approve", style: "primary" },
          { label: "Reject", value: `dctest:${"r".repeat(120)}`, style: "danger" },
        ],
      }),
    });
    gw.commands.register({
      name: "/picture",
      description: "Send a picture",
      handler: () => ({
        text: "A picture",
        media: [{ dataBase64: PNG_1x1, mime: "image/png", filename: "dot.png" }],
      }),
    });
    gw.actions.register("dctest", async (ctx) => {
      pressed.push(ctx.value);
      return { toast: "Noted", reply: { text: `Decision: ${ctx.value.slice(7, 14)}` } };
    });
  },
};

describe("discord channel", () => {
  let t: DiscordSetup;
  before(async () => {
    t = await setupDiscord({
      agent: {
        chunkDelayMs: 40,
        chunkSize: 6,
        reply: (req) => {
          const last = req.body.messages.at(-1)!.content;
          return last.includes("stream please") ? STREAMED : `echo: ${last}`;
        },
      },
      discord: { allowedChannels: [GENERAL] },
      config: { policy: { adminUsers: ["500"] } },
      extensions: [extension],
    });
    t.fake.channels.set(GENERAL, { id: GENERAL, type: 0, guild_id: GUILD });
    t.fake.channels.set(QUIET, { id: QUIET, type: 0, guild_id: GUILD });
    t.fake.channels.set(THREAD_A, { id: THREAD_A, type: 11, guild_id: GUILD, parent_id: GENERAL });
    t.fake.channels.set(THREAD_B, { id: THREAD_B, type: 11, guild_id: GUILD, parent_id: GENERAL });
  });
  after(() => t.close());

  test("identifies with the guild, DM and message-content intents", () => {
    const identify = t.fake.gatewayLog.find((e) => e.op === 2)!;
    const intents = Number((identify.d as { intents: number }).intents);
    for (const bit of [0, 9, 12, 15]) assert.ok(intents & (1 << bit), `intent bit ${bit}`);
  });

  test("a DM is answered by streaming: one message edited no more than every 1.2 s", async () => {
    const dm = "800000000000000001";
    t.fake.userMessage({ content: "stream please", channelId: dm });
    const msg = await waitFor(
      () => t.fake.messagesIn(dm).find((m) => m.content === STREAMED),
      15_000,
      "the final text",
    );
    assert.equal(t.fake.messagesIn(dm).length, 1);
    assert.ok(msg.edits.length >= 2, `partial text was shown first (${msg.edits.length} edits)`);
    const times = [msg.createdAt, ...msg.edits.map((e) => e.at)];
    const gaps = times.slice(1).map((x, i) => x - times[i]!);
    assert.ok(Math.min(...gaps) >= 1100, `edits at least ~1.2 s apart: ${gaps.join(", ")}`);
    assert.deepEqual(msg.allowed_mentions, { parse: [], replied_user: false }, "replies never ping anyone");
  });

  test("in guild channels only mentions and replies to the bot are answered", async () => {
    const before = t.agent.requests.length;
    t.fake.userMessage({ content: "chatter", channelId: GENERAL, guildId: GUILD });
    const mention = t.fake.userMessage({
      content: "hello bot",
      channelId: GENERAL,
      guildId: GUILD,
      mentionBot: true,
    });
    t.fake.userMessage({ content: "replying", channelId: GENERAL, guildId: GUILD, replyToBotMessage: "1" });
    t.fake.userMessage({
      content: "in a channel we do not listen to",
      channelId: QUIET,
      guildId: GUILD,
      mentionBot: true,
    });
    await waitFor(
      () =>
        t.fake.messagesIn(GENERAL).filter((m) => /^echo: (hello bot|replying)$/.test(m.content)).length === 2,
      10_000,
      "two answers",
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.agent.requests.length - before, 2);
    assert.equal(t.fake.messagesIn(QUIET).length, 0, "channels outside allowedChannels are not listened to");
    const answer = t.fake.messagesIn(GENERAL).find((m) => m.content === "echo: hello bot")!;
    assert.equal(answer.message_reference?.message_id, mention.id, "the answer references the message");
    assert.equal(
      t.agent.requests.at(-2)!.body.messages.at(-1)!.content,
      "hello bot",
      "the mention is stripped",
    );
  });

  test("threads are separate sessions and replies go to the thread", async () => {
    t.fake.userMessage({ content: "in thread a", channelId: THREAD_A, guildId: GUILD, mentionBot: true });
    t.fake.userMessage({ content: "in thread b", channelId: THREAD_B, guildId: GUILD, mentionBot: true });
    await waitFor(() => t.fake.messagesIn(THREAD_A).some((m) => m.content === "echo: in thread a"), 10_000);
    await waitFor(() => t.fake.messagesIn(THREAD_B).some((m) => m.content === "echo: in thread b"), 10_000);
    const keys = (await t.gw.gateway.store.listSessions({ prefix: `discord:default:${GENERAL}:` })).map(
      (s) => s.key,
    );
    assert.deepEqual(keys.sort(), [
      `discord:default:${GENERAL}:${THREAD_A}`,
      `discord:default:${GENERAL}:${THREAD_B}`,
    ]);
  });

  test("buttons become components; a press runs the action and is answered ephemerally", async () => {
    const dm = "800000000000000002";
    t.fake.userMessage({ content: "/choose", channelId: dm });
    const offer = await waitFor(() => t.fake.messagesIn(dm).find((m) => m.content === "Pick one"), 10_000);
    const buttons = (
      offer.components as { components: { label: string; custom_id: string; style: number }[] }[]
    )[0]!.components;
    assert.deepEqual(
      buttons.map((b) => [b.label, b.style]),
      [
        ["Approve", 1],
        ["Reject", 4],
      ],
    );
    for (const b of buttons) assert.ok(b.custom_id.length <= 100);
    const press = t.fake.pressButton(offer, buttons[1]!.custom_id);
    await waitFor(() => t.fake.messagesIn(dm).some((m) => m.content === "Decision: rrrrrrr"), 10_000);
    assert.equal(pressed.at(-1), `dctest:${"r".repeat(120)}`);
    const response = await waitFor(() => t.fake.interactionResponses.find((r) => r.id === press.id), 5000);
    assert.equal(response.type, 4);
    assert.deepEqual(response.data, { content: "Noted", flags: 64 });
  });

  test("images are sent as multipart attachments", async () => {
    const dm = "800000000000000003";
    t.fake.userMessage({ content: "/picture", channelId: dm });
    const msg = await waitFor(() => t.fake.messagesIn(dm).find((m) => m.files.length > 0), 10_000);
    assert.equal(msg.content, "A picture");
    assert.deepEqual(
      msg.files.map((f) => [f.name, f.type]),
      [["dot.png", "image/png"]],
    );
  });

  test("strangers are told they are not on the allowlist; other bots are ignored", async () => {
    const dm = "800000000000000004";
    t.fake.userMessage({ content: "hello?", channelId: dm, userId: "999" });
    const refusal = await waitFor(() => t.fake.messagesIn(dm)[0], 10_000);
    assert.match(refusal.content, /allowlist.*999/s);
    const dm2 = "800000000000000005";
    t.fake.userMessage({ content: "beep", channelId: dm2, userId: "501", bot: true });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(t.fake.messagesIn(dm2).length, 0);
  });
});
