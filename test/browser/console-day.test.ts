// Issue 15's "done when": an operator runs a day from the console alone. The bot's token was revoked at
// BotFather, so a delivery is dead-lettered and the channel reports the refusal; the operator sees the dead
// letter, puts the new token into the Channels page (applied without a restart: the web chat is not touched),
// approves a device that paired from the QR code, and retries the dead letter, which now arrives.
import assert from "node:assert/strict";
import { test } from "node:test";
import QRCode from "qrcode";
import { decodeSetupCode } from "../../src/pairing/setup-code.ts";
import { BOT } from "../channels/telegram-helpers.ts";
import { waitFor } from "../helpers/gateway.ts";
import { startConsoleGateway } from "./console-gateway.ts";
import { closeConsole, go, openConsole, screenshot, signIn, status, useBrowser } from "./console-helpers.ts";

const browser = useBrowser();
const NEW_TOKEN = "111111:AAnewTokenFromBotFather";
const CHAT = "5150";

async function post(url: string, body: unknown) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

test("an operator's day: dead letter, fix the token without a restart, approve a pairing from its QR, retry", async () => {
  const gw = await startConsoleGateway();
  const page = await openConsole(browser(), gw.url);
  try {
    const webchat = gw.gateway.adapter("webchat", "default");
    gw.telegram.revokeToken(BOT.token, NEW_TOKEN);
    await gw.gateway.deliver(
      { channel: "telegram", account: "default", conversationId: CHAT },
      { text: "Your nightly render is ready." },
      "day-1",
    );
    await waitFor(async () => (await gw.gateway.store.outboxStats()).dead === 1, 10_000, "the dead letter");

    // Morning: the overview says something is dead; the dead letter says why.
    await signIn(page);
    await page.locator("#queues td.bad", { hasText: "1" }).waitFor();
    await page.getByRole("link", { name: "See the dead letters" }).click();
    await page.getByRole("heading", { level: 1, name: "Dead letters" }).waitFor();
    const dead = page.locator('[data-queue="outbox"] li', { hasText: "Your nightly render is ready." });
    assert.match((await dead.locator(".reason").textContent()) ?? "", /401.*Unauthorized/);

    // The Channels page shows the refusal; the new token goes into the telegram section (the old one is masked).
    await go(page, "Channels");
    const card = page.locator('[data-account="telegram/default"]');
    await card.locator(".bad", { hasText: "rejected the bot token" }).waitFor({ timeout: 15_000 });
    await card.locator(".badge", { hasText: "failing" }).waitFor();
    await page.locator('[data-section="telegram"] summary').click();
    const editor = page.getByLabel(/^Settings of telegram/);
    const shown = JSON.parse(await editor.inputValue()) as Record<string, unknown>;
    assert.notEqual(shown.botToken, BOT.token, "the stored token is not shown");
    assert.match(String(shown.botToken), /masked/);
    await editor.fill(JSON.stringify({ ...shown, botToken: NEW_TOKEN }, null, 2));
    await page.getByRole("button", { name: "Save and apply telegram" }).click();
    await status(page, /^Applied/);
    await waitFor(
      () => gw.telegram.callsTo("getMe", NEW_TOKEN).length > 0,
      10_000,
      "the bot asked with the new token",
    );
    await card.locator(".bad", { hasText: "rejected the bot token" }).waitFor({ state: "detached" });
    await card.locator(".badge", { hasText: "running" }).waitFor();
    assert.equal(await card.locator(".badge", { hasText: "failing" }).count(), 0);
    assert.equal(gw.gateway.adapter("webchat", "default"), webchat, "the web chat kept running: no restart");

    // A device pairs from the QR code; the operator approves it.
    await go(page, "Pairing");
    await page.getByRole("button", { name: "Create a setup code" }).click();
    const code = (await page.locator("#setup-code").textContent()) ?? "";
    await page.waitForFunction(
      () => (document.getElementById("setup-qr") as HTMLImageElement | null)?.naturalWidth,
    );
    const src = (await page.locator("#setup-qr").getAttribute("src"))!;
    const qr = await page.evaluate(async (u) => (await fetch(u)).text(), src);
    assert.equal(
      qr,
      await QRCode.toString(code, { type: "svg", margin: 2 }),
      "the QR encodes the setup code",
    );
    const setup = decodeSetupCode(code)!;
    const hs = await post(`${setup.url}/bridge/handshake`, {
      bootstrap_token: setup.bootstrapToken,
      name: "phone",
    });
    assert.equal(hs.status, 202);
    const request = page.locator('[aria-labelledby="pending-title"] li', { hasText: "phone" });
    await request.getByRole("button", { name: /^Approve / }).click();
    await request.waitFor({ state: "detached" });
    const { request_id, poll_token } = (await hs.json()) as { request_id: string; poll_token: string };
    const collected = await post(`${setup.url}/bridge/handshake`, { request_id, poll_token });
    assert.equal(collected.status, 200, "the device got its token");

    // The dead letter is retried and now arrives.
    await go(page, "Dead letters");
    await dead.getByRole("button", { name: /^Retry / }).click();
    await dead.waitFor({ state: "detached" });
    await waitFor(
      () => gw.telegram.messages(NEW_TOKEN, CHAT).some((m) => m.text === "Your nightly render is ready."),
      10_000,
      "the retried message at Telegram",
    );

    // Everything the operator did is in the audit log, by this session.
    await go(page, "Audit");
    for (const path of ["/admin/api/config/channels/telegram", "/admin/api/pair/approve", "/retry"])
      await page
        .locator("#audit tbody tr", { hasText: path })
        .filter({ hasText: "console:" })
        .first()
        .waitFor();
    await screenshot(page, "operators-day-audit");
  } finally {
    await closeConsole(page);
    await gw.close();
  }
});
