// Webhook mode: the CLI sets and deletes the webhook; Telegram's posts are checked against the secret token in
// constant time, committed before the 200, and deduplicated when Telegram retries.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { FakeTelegram } from "../fakes/telegram.ts";
import { startTestGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { BOT, setupTelegram, type TelegramSetup } from "./telegram-helpers.ts";

const run = promisify(execFile);
const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
const SECRET = "webhook_Secret-123";

async function cli(dir: string, env: Record<string, string>, ...args: string[]) {
  return run(process.execPath, [MAIN, "channels", "telegram", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  }).catch((err: { stdout: string; stderr: string; code: number }) => err);
}

describe("telegram webhook mode", () => {
  let t: TelegramSetup;
  let env: Record<string, string>;
  before(async () => {
    t = await setupTelegram({ telegram: { mode: "webhook", webhookSecret: SECRET } });
    env = { OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: BOT.token, OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: t.fake.url };
  });
  after(() => t.close());

  test("`channels telegram set-webhook` registers the URL and secret; updates are then answered", async () => {
    const url = `${t.gw.url}/telegram/default/webhook`;
    const out = await cli(t.gw.dir, env, "set-webhook", "--url", url);
    assert.match(out.stdout, /Webhook set for account "default"/);
    assert.deepEqual(t.fake.webhookOf(BOT.token), { url, secret: SECRET });
    t.fake.userMessage(BOT.token, { text: "via webhook", userId: 42 });
    await waitFor(() => t.fake.messages(BOT.token, 42).some((m) => m.text === "echo: via webhook"), 10_000);
    assert.equal(t.fake.callsTo("getUpdates").length, 0, "webhook mode never polls");
  });

  test("a wrong or missing secret token is refused; malformed bodies get 400", async () => {
    const url = `${t.gw.url}/telegram/default/webhook`;
    const update = JSON.stringify({
      update_id: 1,
      message: { message_id: 1, chat: { id: 1, type: "private" } },
    });
    const post = (headers: Record<string, string>, body = update) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
    assert.equal((await post({})).status, 401);
    assert.equal((await post({ "x-telegram-bot-api-secret-token": `${SECRET}x` })).status, 401);
    assert.equal((await post({ "x-telegram-bot-api-secret-token": SECRET }, "{not json")).status, 400);
    const noId = await post({ "x-telegram-bot-api-secret-token": SECRET }, JSON.stringify({ message: {} }));
    assert.equal(noId.status, 400);
    assert.match(((await noId.json()) as { error: string }).error, /update_id/);
  });

  test("a retried update is answered once", async () => {
    const url = `${t.gw.url}/telegram/default/webhook`;
    const update = {
      update_id: 777001,
      message: {
        message_id: 9,
        from: { id: 43, is_bot: false, first_name: "T" },
        chat: { id: 43, type: "private" },
        date: 0,
        text: "retried",
      },
    };
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
        body: JSON.stringify(update),
      });
      assert.equal(res.status, 200);
    }
    await waitFor(() => t.fake.messages(BOT.token, 43).some((m) => m.text === "echo: retried"), 10_000);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(t.fake.messages(BOT.token, 43).length, 1);
  });

  test("an update older than retention.finishedDays and an unreadable one are acknowledged, not answered", async () => {
    const url = `${t.gw.url}/telegram/default/webhook`;
    const send = (update: unknown) =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET },
        body: JSON.stringify(update),
      });
    const message = (text: unknown, date: number) => ({
      message_id: 10,
      from: { id: 43, is_bot: false, first_name: "T" },
      chat: { id: 4301, type: "private" },
      date,
      text,
    });
    const now = Math.floor(Date.now() / 1000);
    const before = t.agent.requests.length;
    const stale = await send({ update_id: 778001, message: message("last week", now - 8 * 86_400) });
    assert.equal(stale.status, 200, "Telegram must stop resending it");
    const poison = await send({ update_id: 778002, message: message({ not: "text" }, now) });
    assert.equal(poison.status, 200, "resending would not make it readable");
    assert.ok(await t.gw.gateway.store.kvGet("telegram:unreadable", "default:778002"));
    const good = await send({ update_id: 778003, message: message("today", now) });
    assert.equal(good.status, 200);
    await waitFor(() => t.fake.messages(BOT.token, 4301).some((m) => m.text === "echo: today"), 10_000);
    assert.equal(t.agent.requests.length, before + 1, "only the fresh, readable update reached the agent");
    assert.equal(t.fake.messages(BOT.token, 4301).length, 1);
  });

  test("`delete-webhook` removes it; errors from the CLI say what to do", async () => {
    const out = await cli(t.gw.dir, env, "delete-webhook");
    assert.match(out.stdout, /Webhook deleted/);
    assert.equal(t.fake.webhookOf(BOT.token), undefined);
    const unknown = await cli(t.gw.dir, env, "delete-webhook", "--account", "nope");
    assert.match(unknown.stderr, /no Telegram account "nope"; configured: default/);
  });
});

test("webhook mode without a secret is refused at startup", async () => {
  const fake = await new FakeTelegram([BOT]).start();
  try {
    await assert.rejects(
      startTestGateway({
        dir: tempDir(),
        config: { channels: { telegram: { mode: "webhook" } } },
        env: { OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: BOT.token, OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: fake.url },
      }),
      /webhookSecret: required in webhook mode/,
    );
  } finally {
    await fake.stop();
  }
});
