// Telegram's limits: a 429 with retry_after delays only that chat; 409 Conflict (another getUpdates consumer, or a
// webhook) is reported in words the operator can act on, and polling recovers when the conflict ends.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FakeTelegram } from "../fakes/telegram.ts";
import { waitFor } from "../helpers/gateway.ts";
import { BOT, OTHER_BOT, setupTelegram, type TelegramSetup } from "./telegram-helpers.ts";

describe("telegram rate limits", () => {
  let t: TelegramSetup;
  before(async () => {
    t = await setupTelegram();
  });
  after(() => t.close());

  test("a 429 makes only that chat wait for retry_after; other chats are answered meanwhile", async () => {
    t.fake.rateLimit(5001, 2, 1);
    t.fake.userMessage(BOT.token, { text: "first", userId: 42, chatId: 5001 });
    t.fake.userMessage(BOT.token, { text: "second", userId: 43, chatId: 5002 });
    const other = await waitFor(
      () => t.fake.messages(BOT.token, 5002).find((m) => m.text === "echo: second"),
      10_000,
    );
    const limited = await waitFor(
      () => t.fake.messages(BOT.token, 5001).find((m) => m.text === "echo: first"),
      10_000,
      "the rate-limited chat's reply",
    );
    const calls = t.fake.calls.filter((c) => String(c.params.chat_id) === "5001");
    const refused = calls.find((c) => c.status === 429)!;
    const next = calls.find((c) => c.at > refused.at && c.status === 200)!;
    assert.ok(next.at - refused.at >= 1950, `waited ${next.at - refused.at} ms after a retry_after of 2 s`);
    const otherDone = Math.max(other.sentAt, ...other.edits.map((e) => e.at));
    assert.ok(otherDone < next.at, "the other chat did not wait behind the limited one");
    assert.ok(limited);
  });
});

describe("telegram 409 conflict", () => {
  test("another getUpdates consumer is reported, and polling resumes once it is gone", async () => {
    const fake = await new FakeTelegram([BOT, OTHER_BOT]).start();
    // Someone else's long poll is already waiting on this bot.
    const intruder = new AbortController();
    const held = fetch(`${fake.url}/bot${BOT.token}/getUpdates`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ timeout: 30 }),
      signal: intruder.signal,
    }).catch(() => undefined);
    await waitFor(() => fake.callsTo("getUpdates").length === 1);
    const t = await setupTelegram({ fake });
    try {
      const adapter = t.gw.gateway.adapter("telegram", "default")!;
      const health = await waitFor(
        () => adapter.health().lastError && adapter.health(),
        10_000,
        "a health error",
      );
      assert.equal(health.status, "error");
      assert.match(health.lastError!.message, /409 Conflict: another program is polling this bot/);
      intruder.abort();
      await held;
      fake.userMessage(BOT.token, { text: "after the conflict", userId: 42 });
      await waitFor(
        () => fake.messages(BOT.token, 42).some((m) => m.text === "echo: after the conflict"),
        12_000,
      );
      assert.equal(adapter.health().status, "running");
    } finally {
      await t.close();
      await fake.stop();
    }
  });

  test("a webhook set on the bot is named as the cause, with the command that fixes it", async () => {
    const fake = await new FakeTelegram([BOT]).start();
    await fetch(`${fake.url}/bot${BOT.token}/setWebhook`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "https://example.invalid/hook" }),
    });
    const t = await setupTelegram({ fake, bots: [BOT] });
    try {
      const adapter = t.gw.gateway.adapter("telegram", "default")!;
      const health = await waitFor(() => adapter.health().lastError, 10_000, "a health error");
      assert.match(health.message, /a webhook is set for this bot.*delete-webhook --account default/);
      assert.ok(!health.message.includes(BOT.token), "the token never appears in errors");
    } finally {
      await t.close();
      await fake.stop();
    }
  });
});
