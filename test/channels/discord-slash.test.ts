// Slash commands on Discord: the gateway's chat commands are published as application commands at start (a bulk
// overwrite, so restarts change nothing), an invocation is acknowledged at once with a deferred response and
// answered through the interaction (the original response, then follow-ups for a long answer), and an answer
// whose interaction token no longer works goes to the channel instead, once.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { FakeDiscord, snowflakeAt } from "../fakes/discord.ts";
import { waitFor } from "../helpers/gateway.ts";
import { DC_BOT, type DiscordSetup, setupDiscord } from "./discord-helpers.ts";

const GUILD = "700000000000000009";
const GENERAL = "710000000000000009";
const LONG = Array.from({ length: 900 }, (_, i) => `w${i}`).join(" "); // about 4,500 characters

let release: (() => void) | undefined;
const extension: GatewayExtension = {
  name: "discord-slash-test",
  setup(gw) {
    gw.commands.register({
      name: "/echoargs",
      description: "Say back what follows the command",
      handler: ({ command, event }) => ({
        text: `${event.sender.id} in ${event.conversation.kind}: [${command.positional.join("|")}] k=${command.kv.k}`,
      }),
    });
    gw.commands.register({ name: "/long", description: "A long answer", handler: () => ({ text: LONG }) });
    gw.commands.register({
      name: "/slow",
      description: "Answers when the test says so",
      handler: async () => {
        await new Promise<void>((r) => {
          release = r;
        });
        return { text: "late answer" };
      },
    });
    gw.commands.register({
      name: "/Bad Name",
      description: "not a valid Discord name",
      handler: () => undefined,
    });
  },
};

/** Messages in the channel that are not answers to an interaction. */
const plainIn = (fake: FakeDiscord, channel: string) =>
  fake.messagesIn(channel).filter((m) => !m.interactionId);

describe("discord slash commands", () => {
  let t: DiscordSetup;
  before(async () => {
    t = await setupDiscord({
      extensions: [extension],
      config: { policy: { adminUsers: ["500", "501"], rateLimits: { perUserPerMinute: 100 } } },
    });
    t.fake.channels.set(GENERAL, { id: GENERAL, type: 0, guild_id: GUILD });
    await waitFor(() => t.fake.commands.get("global"), 10_000, "the commands published");
  });
  after(() => t.close());

  test("the chat commands are published globally at start, each with one optional string option", async () => {
    const commands = await waitFor(() => t.fake.commands.get("global"), 10_000, "the bulk overwrite");
    const names = commands.map((c) => c.name);
    for (const n of ["help", "new", "whoami", "status", "echoargs", "long", "slow"])
      assert.ok(names.includes(n), n);
    assert.ok(!names.some((n) => /\s|[A-Z]/.test(n)), "names Discord refuses are left out");
    for (const c of commands) {
      assert.equal(c.type, 1);
      assert.ok(c.description.length >= 1 && c.description.length <= 100);
      assert.deepEqual(
        c.options?.map((o) => [o.type, o.name, o.required]),
        [[3, "args", false]],
      );
    }
    const puts = t.fake.calls.filter(
      (c) => c.method === "PUT" && c.path === `/applications/${DC_BOT.id}/commands`,
    );
    assert.equal(puts.length, 1, "one bulk overwrite, no per-command creates");
    assert.equal(t.fake.calls.filter((c) => c.method === "POST" && c.path.includes("/commands")).length, 0);
  });

  test("a slash command is acknowledged at once and answered through the interaction", async () => {
    const dm = "850000000000000001";
    const i = t.fake.slashCommand("echoargs", { args: 'one "two words" k=v', channelId: dm });
    const answer = await waitFor(
      () => t.fake.answersTo(String(i.id)).find((m) => m.content.startsWith("500")),
      10_000,
      "the answer",
    );
    assert.equal(answer.content, "500 in dm: [one|two words] k=v");
    assert.equal((answer.flags ?? 0) & 128, 0, "the 'thinking…' state was replaced");
    const ack = t.fake.interactionResponses.find((r) => r.id === i.id);
    assert.equal(ack?.type, 5, "acknowledged with a deferred response");
    assert.equal(t.fake.answersTo(String(i.id)).length, 1, "the answer is the original response");
    assert.equal(plainIn(t.fake, dm).length, 0, "nothing else in the channel");
  });

  test("in a guild the invoking member is the sender", async () => {
    const i = t.fake.slashCommand("echoargs", {
      args: "x",
      channelId: GENERAL,
      guildId: GUILD,
      userId: "501",
    });
    const answer = await waitFor(() => t.fake.answersTo(String(i.id)).find((m) => m.content), 10_000);
    assert.equal(answer.content, "501 in group: [x] k=undefined");
  });

  test("a long answer is the original response and follow-ups, each within 2000 characters", async () => {
    const dm = "850000000000000002";
    const i = t.fake.slashCommand("long", { channelId: dm });
    const parts = await waitFor(
      () => {
        const a = t.fake.answersTo(String(i.id));
        return a.length >= 3 && a.every((m) => m.content) ? a : undefined;
      },
      10_000,
      "three parts",
    );
    assert.equal(parts.length, 3);
    for (const p of parts) assert.ok(p.content.length <= 2000);
    assert.equal(parts.map((p) => p.content).join(" "), LONG);
    const followUps = t.fake.calls.filter(
      (c) => c.method === "POST" && c.path.startsWith(`/webhooks/${DC_BOT.id}/`),
    );
    assert.equal(followUps.length, 2, "two follow-ups after the original");
    assert.equal(plainIn(t.fake, dm).length, 0);
  });

  test("a follow-up whose answer was lost is not posted twice", async () => {
    const dm = "850000000000000003";
    // Discord creates the message, but the connection drops before the gateway hears back: the outbox retries.
    t.fake.loseNextAnswer("POST", /^\/webhooks\//);
    const i = t.fake.slashCommand("long", { channelId: dm });
    // The outbox retried the item whose answer was lost: wait until it has settled every part.
    const items = await waitFor(
      async () => {
        const items = await t.gw.gateway.store.listOutbound({ sessionKey: `discord:default:${dm}` });
        return items.length === 3 && items.every((x) => x.state === "done") && items;
      },
      20_000,
      "every part delivered",
    );
    assert.ok(
      items.some((x) => x.attempts > 1),
      "one part was retried",
    );
    const parts = t.fake.answersTo(String(i.id)).map((m) => m.content);
    assert.equal(parts.length, 3, `each part once: ${parts.map((p) => p.slice(0, 12)).join(", ")}`);
    assert.equal(parts.join(" "), LONG);
  });

  test("an answer whose interaction token stopped working goes to the channel, once", async () => {
    const dm = "850000000000000004";
    const i = t.fake.slashCommand("slow", { channelId: dm });
    await waitFor(() => t.fake.interactionResponses.find((r) => r.id === i.id), 5000, "the deferral");
    await waitFor(() => release, 5000, "the command running");
    t.fake.expireInteraction(String(i.id)); // as 15 minutes later
    release!();
    release = undefined;
    const msg = await waitFor(() => plainIn(t.fake, dm).find((m) => m.content === "late answer"), 10_000);
    assert.ok(msg);
    const edit = t.fake.calls.find((c) => c.method === "PATCH" && c.path.includes(String(i.token)));
    assert.equal(edit?.status, 401, "the token was tried and refused (50027)");
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(plainIn(t.fake, dm).length, 1);
  });

  test("an interaction older than 15 minutes is answered in the channel without trying its token", async () => {
    const dm = "850000000000000005";
    const id = snowflakeAt(Date.now() - 20 * 60_000);
    t.fake.slashCommand("echoargs", { args: "old", channelId: dm, id });
    const msg = await waitFor(() => plainIn(t.fake, dm)[0], 10_000, "the channel message");
    assert.equal(msg.content, "500 in dm: [old] k=undefined");
    assert.equal(
      t.fake.calls.filter((c) => c.path.startsWith("/webhooks/") && c.path.includes(id)).length,
      0,
    );
    const callback = t.fake.calls.find((c) => c.path.startsWith(`/interactions/${id}/`));
    assert.equal(callback?.status, 404, "Discord refused the late acknowledgement (10062)");
  });
});

test("commandGuilds publishes in those guilds and empties the global list; a restart overwrites the same", async () => {
  const fake = await new FakeDiscord(DC_BOT).start();
  try {
    for (let round = 0; round < 2; round++) {
      const t = await setupDiscord({ fake, discord: { commandGuilds: [GUILD] } });
      try {
        await waitFor(() => fake.calls.filter((c) => c.method === "PUT").length === 2 * (round + 1), 10_000);
      } finally {
        await t.close();
      }
    }
    assert.deepEqual(fake.commands.get("global"), []);
    const inGuild = fake.commands.get(GUILD)!;
    assert.ok(inGuild.some((c) => c.name === "help"));
    const puts = fake.calls.filter((c) => c.path === `/applications/${DC_BOT.id}/guilds/${GUILD}/commands`);
    assert.equal(puts.length, 2);
    assert.deepEqual(puts[0]!.body, puts[1]!.body, "the same list both times");
  } finally {
    await fake.stop();
  }
});

test("a slash command in a channel outside allowedChannels gets a note only its user sees", async () => {
  const t = await setupDiscord({ discord: { allowedChannels: [GENERAL] } });
  const quiet = "710000000000000010";
  try {
    t.fake.channels.set(quiet, { id: quiet, type: 0, guild_id: GUILD });
    await waitFor(() => t.fake.commands.get("global"), 10_000, "the commands published");
    const before = t.agent.requests.length;
    const i = t.fake.slashCommand("help", { channelId: quiet, guildId: GUILD });
    const response = await waitFor(() => t.fake.interactionResponses.find((r) => r.id === i.id), 5000);
    assert.equal(response.type, 4);
    assert.equal(response.data?.flags, 64, "ephemeral");
    assert.match(String(response.data?.content), /don't answer in this channel/);
    assert.equal(t.fake.messagesIn(quiet).filter((m) => !((m.flags ?? 0) & 64)).length, 0, "nothing public");
    assert.equal(t.agent.requests.length, before);
  } finally {
    await t.close();
  }
});
