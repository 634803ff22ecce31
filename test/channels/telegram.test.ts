// Telegram end to end against the fake Bot API: long polling → inbox → agent → streamed reply by edits, group
// mention rules, forum topics as sessions, inline buttons, photos, formatting fallback, long replies.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { waitFor } from "../helpers/gateway.ts";
import { BOT, sendGaps, setupTelegram, type TelegramSetup } from "./telegram-helpers.ts";

const LONG_REPLY = "Streaming reply: ".concat("lorem ipsum dolor sit amet ".repeat(9)).trim();
const PNG_1x1 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

const pressed: string[] = [];
const testExtension: GatewayExtension = {
  name: "telegram-test",
  setup(gw) {
    gw.commands.register({
      name: "/choose",
      description: "Offer two buttons",
      handler: () => ({
        text: "Pick one",
        buttons: [
          { label: "Yes", value: "tgtest:yes" },
          { label: "Long", value: `tgtest:${"x".repeat(90)}` },
        ],
      }),
    });
    gw.commands.register({
      name: "/picture",
      description: "Send a picture",
      handler: () => ({
        text: "Here is a picture",
        media: [{ dataBase64: PNG_1x1, mime: "image/png", filename: "dot.png" }],
      }),
    });
    gw.actions.register("tgtest", async (ctx) => {
      pressed.push(ctx.value);
      return { toast: "Got it", reply: { text: `You chose ${ctx.value.slice(7, 17)}` } };
    });
  },
};

describe("telegram channel", () => {
  let t: TelegramSetup;
  before(async () => {
    t = await setupTelegram({
      agent: {
        chunkDelayMs: 40,
        chunkSize: 6,
        reply: (req) => {
          const last = req.body.messages.at(-1)!.content;
          if (last.includes("stream please")) return LONG_REPLY;
          if (last.includes("long please")) return "word ".repeat(1800).trim();
          if (last.includes("format please")) return "Use **bold** and `code` <safely>";
          return `echo: ${last}`;
        },
      },
      config: { policy: { adminUsers: ["42"] } },
      extensions: [testExtension],
    });
  });
  after(() => t.close());

  test("a private message is answered by streaming: one message, edited at most once a second", async () => {
    t.fake.userMessage(BOT.token, { text: "stream please", userId: 42 });
    const msg = await waitFor(
      () => t.fake.messages(BOT.token, 42).find((m) => m.text === LONG_REPLY),
      15_000,
      "the final streamed text",
    );
    assert.equal(t.fake.messages(BOT.token, 42).length, 1, "the reply is one message, edited in place");
    assert.ok(
      msg.edits.length >= 2,
      `streaming showed partial text before the end (${msg.edits.length} edits)`,
    );
    const gaps = sendGaps(t.fake, 42);
    assert.ok(Math.min(...gaps) >= 1000, `edits to one chat arrive at least 1 s apart: ${gaps.join(", ")}`);
    // The agent got the user's text, not the mention or platform noise.
    assert.equal(t.agent.requests.at(-1)!.body.messages.at(-1)!.content, "stream please");
  });

  test("in groups the bot answers only when mentioned, replied to or /cmd@thisbot", async () => {
    const group = -100777;
    const before = t.agent.requests.length;
    t.fake.userMessage(BOT.token, {
      text: "just chatting",
      chatId: group,
      chatType: "supergroup",
      userId: 42,
    });
    t.fake.userMessage(BOT.token, {
      text: "/help@second_test_bot",
      chatId: group,
      chatType: "supergroup",
      userId: 42,
    });
    t.fake.userMessage(BOT.token, {
      text: "@clawgate_test_bot hello there",
      chatId: group,
      chatType: "supergroup",
      userId: 42,
      entities: [{ type: "mention", offset: 0, length: 18 }],
    });
    t.fake.userMessage(BOT.token, {
      text: "and a reply",
      chatId: group,
      chatType: "supergroup",
      userId: 42,
      replyToBot: true,
    });
    // Commands for another bot, however they are spelled, are not ours (the name is read whatever follows it).
    t.fake.userMessage(BOT.token, {
      text: "/help@second_test_bot, now",
      chatId: group,
      chatType: "supergroup",
      userId: 42,
    });
    t.fake.userMessage(BOT.token, {
      text: "@clawgate_test_bot /help@second_test_bot x",
      chatId: group,
      chatType: "supergroup",
      userId: 42,
      entities: [{ type: "mention", offset: 0, length: 18 }],
    });
    // Last in the lane: once it is answered, everything before it was handled.
    t.fake.userMessage(BOT.token, {
      text: "/help@clawgate_test_bot",
      chatId: group,
      chatType: "supergroup",
      userId: 42,
    });
    await waitFor(
      () => t.fake.messages(BOT.token, group).some((m) => /help/i.test(m.text) && !m.text.startsWith("echo")),
      10_000,
      "the /help@thisbot answer",
    );
    assert.equal(t.fake.messages(BOT.token, group).length, 3, "three group answers, none for another bot");
    await waitFor(() => t.fake.pendingUpdates(BOT.token) === 0, 5000, "all updates confirmed");
    const texts = t.fake.messages(BOT.token, group).map((m) => m.text);
    assert.ok(texts.includes("echo: hello there"), `the mention is stripped: ${texts.join(" | ")}`);
    assert.ok(texts.includes("echo: and a reply"));
    assert.ok(
      texts.some((x) => /help/i.test(x) && !x.startsWith("echo")),
      "the /help@thisbot command is answered",
    );
    assert.equal(
      t.agent.requests.length - before,
      2,
      "unaddressed chatter and other bots' commands reach no agent",
    );
    const answer = t.fake.callsTo("sendMessage").find((c) => String(c.params.chat_id) === String(group));
    assert.ok(
      (answer!.params.reply_parameters as { message_id: number }).message_id > 0,
      "group answers quote the message",
    );
  });

  test("in a private chat, a command addressed to another bot is not answered", async () => {
    const before = t.fake.messages(BOT.token, 42).length;
    t.fake.userMessage(BOT.token, { text: "/help@second_test_bot, now", userId: 42 });
    t.fake.userMessage(BOT.token, { text: "/whoami@clawgate_test_bot", userId: 42 });
    await waitFor(
      () => t.fake.messages(BOT.token, 42).some((m) => /Your id:/.test(m.text)),
      10_000,
      "the /whoami answer",
    );
    const texts = t.fake
      .messages(BOT.token, 42)
      .slice(before)
      .map((m) => m.text);
    assert.equal(texts.length, 1, `only /whoami@thisbot is answered: ${texts.join(" | ")}`);
  });

  test("forum topics are separate sessions and replies stay in their topic", async () => {
    const group = -100888;
    t.fake.userMessage(BOT.token, {
      text: "@clawgate_test_bot in topic one",
      chatId: group,
      chatType: "supergroup",
      topic: 11,
    });
    t.fake.userMessage(BOT.token, {
      text: "@clawgate_test_bot in topic two",
      chatId: group,
      chatType: "supergroup",
      topic: 22,
    });
    await waitFor(
      () => t.fake.messages(BOT.token, group).filter((m) => /^echo: in topic \w+$/.test(m.text)).length === 2,
      10_000,
      "two topic replies",
    );
    const byTopic = Object.fromEntries(t.fake.messages(BOT.token, group).map((m) => [m.thread, m.text]));
    assert.equal(byTopic[11], "echo: in topic one");
    assert.equal(byTopic[22], "echo: in topic two");
    const sessions = await t.gw.gateway.store.listSessions({ prefix: `telegram:default:${group}` });
    assert.deepEqual(sessions.map((s) => s.key).sort(), [
      `telegram:default:${group}:topic:11`,
      `telegram:default:${group}:topic:22`,
    ]);
  });

  test("buttons become an inline keyboard; a press runs the action and answers the callback query", async () => {
    t.fake.userMessage(BOT.token, { text: "/choose", userId: 42, chatId: 4201 });
    const offer = await waitFor(
      () => t.fake.messages(BOT.token, 4201).find((m) => m.text === "Pick one"),
      10_000,
    );
    const keyboard = (
      offer.reply_markup as { inline_keyboard: { text: string; callback_data: string }[][] }
    ).inline_keyboard.flat();
    assert.deepEqual(
      keyboard.map((b) => b.text),
      ["Yes", "Long"],
    );
    for (const b of keyboard)
      assert.ok(Buffer.byteLength(b.callback_data) <= 64, "callback_data fits 64 bytes");
    t.fake.pressButton(BOT.token, offer, keyboard[1]!.callback_data);
    await waitFor(
      () => t.fake.messages(BOT.token, 4201).some((m) => m.text === "You chose xxxxxxxxxx"),
      10_000,
    );
    assert.equal(pressed.at(-1), `tgtest:${"x".repeat(90)}`, "a long value comes back whole");
    const answered = t.fake.callsTo("answerCallbackQuery").at(-1)!;
    assert.equal(answered.params.text, "Got it");
  });

  test("a pressed button that no module knows is answered, not ignored", async () => {
    const offer = t.fake.messages(BOT.token, 4201).find((m) => m.text === "Pick one")!;
    const before = t.fake.callsTo("answerCallbackQuery").length;
    t.fake.pressButton(BOT.token, offer, "nobody:knows");
    await waitFor(() => t.fake.callsTo("answerCallbackQuery").length > before, 10_000);
    assert.match(String(t.fake.callsTo("answerCallbackQuery").at(-1)!.params.text), /no longer valid/);
  });

  test("media goes out with sendPhoto as multipart, the text as its caption", async () => {
    t.fake.userMessage(BOT.token, { text: "/picture", userId: 42, chatId: 4202 });
    const photo = await waitFor(() => t.fake.messages(BOT.token, 4202).find((m) => m.photo), 10_000);
    assert.equal(photo.photo!.mime, "image/png");
    assert.ok(photo.photo!.bytes > 50);
    assert.equal(photo.caption, "Here is a picture");
  });

  test("a 429 on the photo after its text went out: the retry sends the photo, not the text again", async () => {
    const text = `Too long for a caption: ${"words ".repeat(200)}`.trim();
    t.fake.rateLimit(4209, 1, 1, "sendPhoto");
    await t.gw.gateway.deliver(
      { channel: "telegram", account: "default", conversationId: "4209" },
      { text, media: [{ dataBase64: PNG_1x1, mime: "image/png", filename: "dot.png" }] },
      "r2-telegram-text-then-photo",
    );
    await waitFor(() => t.fake.messages(BOT.token, 4209).find((m) => m.photo), 15_000, "the photo");
    assert.equal(t.fake.messages(BOT.token, 4209).filter((m) => m.text === text).length, 1, "the text once");
    assert.equal(t.fake.messages(BOT.token, 4209).length, 2);
  });

  test("Markdown is shown formatted, and as plain text when Telegram refuses the markup", async () => {
    t.fake.userMessage(BOT.token, { text: "format please", userId: 42, chatId: 4203 });
    await waitFor(
      () => t.fake.messages(BOT.token, 4203).find((m) => m.text === "Use bold and code <safely>"),
      10_000,
    );
    const html = t.fake
      .callsTo("editMessageText")
      .filter((c) => c.params.chat_id === "4203" && c.status === 200)
      .at(-1)!;
    assert.equal(html.params.parse_mode, "HTML");
    assert.equal(html.params.text, "Use <b>bold</b> and <code>code</code> &lt;safely&gt;");

    t.fake.rejectMarkup = true;
    try {
      t.fake.userMessage(BOT.token, { text: "format please", userId: 42, chatId: 4204 });
      const plain = await waitFor(
        // The Markdown as plain text: no asterisks or backticks left.
        () => t.fake.messages(BOT.token, 4204).find((m) => m.text === "Use bold and code <safely>"),
        10_000,
        "the plain-text fallback",
      );
      assert.equal(plain.parse_mode, undefined);
    } finally {
      t.fake.rejectMarkup = false;
    }
  });

  test("a reply longer than 4096 characters is split into several messages", async () => {
    t.agent.options.chunkSize = 1000;
    t.fake.userMessage(BOT.token, { text: "long please", userId: 42, chatId: 4205 });
    await waitFor(
      () =>
        t.fake.messages(BOT.token, 4205).length >= 3 &&
        !t.fake.messages(BOT.token, 4205)[0]!.text.endsWith("▍"),
      15_000,
      "three chunks",
    );
    t.agent.options.chunkSize = 6;
    const msgs = t.fake.messages(BOT.token, 4205);
    for (const m of msgs) assert.ok(m.text.length <= 4096);
    assert.equal(
      msgs
        .map((m) => m.text)
        .join(" ")
        .replace(/\s+/g, " "),
      "word ".repeat(1800).trim(),
    );
  });

  test("strangers get the allowlist answer, and bots are never answered", async () => {
    t.fake.userMessage(BOT.token, { text: "hi, who are you", userId: 999, chatId: 999 });
    const refusal = await waitFor(() => t.fake.messages(BOT.token, 999)[0], 10_000);
    assert.match(refusal.text, /allowlist.*999/s);
    const before = t.agent.requests.length;
    t.fake.userMessage(BOT.token, { text: "beep", userId: 43, chatId: 43, isBot: true });
    await waitFor(() => t.fake.pendingUpdates(BOT.token) === 0, 5000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.agent.requests.length, before);
    assert.equal(t.fake.messages(BOT.token, 43).length, 0);
  });

  test("the command menu is published with setMyCommands", async () => {
    const commands = t.fake.commandsOf(BOT.token) as { command: string }[];
    assert.ok(commands.some((c) => c.command === "help"));
    assert.ok(commands.some((c) => c.command === "choose"));
    assert.equal(t.fake.callsTo("setMyCommands").length, 1);
  });
});
