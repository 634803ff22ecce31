// What comes in over long polling that is not a plain user message: updates older than the dedup window,
// updates the gateway cannot read (they must not block the bot), anonymous group admins and channels.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../helpers/gateway.ts";
import { BOT, setupTelegram, type TelegramSetup } from "./telegram-helpers.ts";

const GROUP = -100555;
const CHANNEL = -100999;
const DAY_SEC = 86_400;
const nowSec = () => Math.floor(Date.now() / 1000);
/** Telegram's fixed author of anonymous admins' messages (https://core.telegram.org/bots/api#message, sender_chat). */
const GROUP_ANONYMOUS_BOT = {
  id: 1087968824,
  is_bot: true,
  first_name: "Group",
  username: "GroupAnonymousBot",
};

/** The largest offset the gateway has confirmed with getUpdates so far. */
function confirmedOffset(t: TelegramSetup): number {
  return Math.max(0, ...t.fake.callsTo("getUpdates", BOT.token).map((c) => Number(c.params.offset ?? 0)));
}

describe("telegram ingress over long polling", () => {
  let t: TelegramSetup;
  before(async () => {
    t = await setupTelegram({
      config: { policy: { adminUsers: [`telegram:${GROUP}`] } },
      env: { OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_CHATS: String(GROUP) },
    });
  });
  after(() => t.close());

  test("a message older than retention.finishedDays is confirmed and never reaches the agent", async () => {
    const stale = t.fake.userMessage(BOT.token, {
      text: "from last week",
      userId: 42,
      chatId: 4401,
      date: nowSec() - 8 * DAY_SEC,
    });
    const fresh = t.fake.userMessage(BOT.token, { text: "from today", userId: 42, chatId: 4401 });
    await waitFor(
      () => t.fake.messages(BOT.token, 4401).some((m) => m.text === "echo: from today"),
      15_000,
      "the fresh message's answer",
    );
    await waitFor(() => confirmedOffset(t) > (fresh.update_id as number), 10_000, "the offset to move on");
    assert.ok(confirmedOffset(t) > (stale.update_id as number));
    const asked = t.agent.requests.flatMap((r) => r.body.messages.map((m) => m.content));
    assert.ok(!asked.some((c) => String(c).includes("from last week")), "the stale message was not sent on");
    assert.deepEqual(
      t.fake.messages(BOT.token, 4401).map((m) => m.text),
      ["echo: from today"],
    );
  });

  test("an update that cannot be read is recorded and skipped; the next one is answered", async () => {
    const poison = t.fake.pushUpdate(BOT.token, {
      message: {
        message_id: 77,
        from: { id: 42, is_bot: false, first_name: "T" },
        chat: { id: 4402, type: "private" },
        date: nowSec(),
        text: 5,
        entities: "not a list",
      },
    });
    const good = t.fake.userMessage(BOT.token, { text: "after the poison", userId: 42, chatId: 4402 });
    await waitFor(
      () => t.fake.messages(BOT.token, 4402).some((m) => m.text === "echo: after the poison"),
      15_000,
      "the good update's answer",
    );
    await waitFor(
      () => confirmedOffset(t) > (good.update_id as number),
      10_000,
      "the offset to move past both",
    );
    assert.ok(confirmedOffset(t) > (poison.update_id as number));
    assert.equal(t.fake.pendingUpdates(BOT.token), 0);
    assert.equal(t.fake.messages(BOT.token, 4402).length, 1, "the poison update was not answered");
    const dead = await t.gw.gateway.store.kvGet("telegram:unreadable", `default:${poison.update_id}`);
    assert.ok(dead, "the unreadable update is kept for an operator");
    const record = JSON.parse(dead) as { reason: string; update: string };
    assert.match(record.reason, /message\.text/);
    assert.match(record.update, /"text":5/);
  });

  test("an anonymous group admin is a person: answered, with the group's id as sender id", async () => {
    t.fake.userMessage(BOT.token, {
      text: "/whoami@clawgate_test_bot",
      chatId: GROUP,
      chatType: "supergroup",
      from: GROUP_ANONYMOUS_BOT,
      senderChat: { id: GROUP, type: "supergroup", title: "Ops room" },
    });
    const who = await waitFor(
      () => t.fake.messages(BOT.token, GROUP).find((m) => m.text.includes("Your id")),
      15_000,
      "the /whoami answer",
    );
    assert.match(who.text, new RegExp(`Your id: ${GROUP} \\(Ops room\\)`));
    assert.match(who.text, /Admin: yes/, "policy.adminUsers lists telegram:<chatId>");
    t.fake.userMessage(BOT.token, {
      text: "@clawgate_test_bot hello from an admin",
      chatId: GROUP,
      chatType: "supergroup",
      from: GROUP_ANONYMOUS_BOT,
      senderChat: { id: GROUP, type: "supergroup", title: "Ops room" },
      entities: [{ type: "mention", offset: 0, length: 18 }],
    });
    await waitFor(
      () => t.fake.messages(BOT.token, GROUP).some((m) => m.text === "echo: hello from an admin"),
      15_000,
      "the agent's answer to the anonymous admin",
    );
  });

  test("a linked channel's post copied into the group is ignored; a message posted as a channel is the channel's", async () => {
    const before = t.agent.requests.length;
    const forwarded = t.fake.userMessage(BOT.token, {
      text: "@clawgate_test_bot new post on the channel",
      chatId: GROUP,
      chatType: "supergroup",
      from: { id: 777000, is_bot: false, first_name: "Telegram" },
      senderChat: { id: CHANNEL, type: "channel", title: "News" },
      automaticForward: true,
      entities: [{ type: "mention", offset: 0, length: 18 }],
    });
    t.fake.userMessage(BOT.token, {
      text: "/whoami@clawgate_test_bot",
      chatId: GROUP,
      chatType: "supergroup",
      from: { id: 136817688, is_bot: true, first_name: "Channel", username: "Channel_Bot" },
      senderChat: { id: CHANNEL, type: "channel", title: "News" },
    });
    const who = await waitFor(
      () => t.fake.messages(BOT.token, GROUP).find((m) => m.text.includes(`Your id: ${CHANNEL}`)),
      15_000,
      "the /whoami answer to the channel",
    );
    assert.match(who.text, /Admin: no/);
    assert.ok(confirmedOffset(t) > (forwarded.update_id as number));
    assert.equal(t.agent.requests.length, before, "the automatic forward never reached the agent");
  });
});
