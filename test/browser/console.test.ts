// The console in Chromium against a running gateway with fakes: sign-in, and each page's main action, checked
// as an operator sees it (the page) and as it happened (the fakes, the API).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import QRCode from "qrcode";
import { decodeSetupCode } from "../../src/pairing/setup-code.ts";
import { BOT } from "../channels/telegram-helpers.ts";
import { FakeLine } from "../fakes/line.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";
import { type ConsoleGateway, chat, startConsoleGateway } from "./console-gateway.ts";
import { ADMIN_TOKEN, closeConsole, go, openConsole, signIn, status, useBrowser } from "./console-helpers.ts";

const browser = useBrowser();

/** The QR image as the browser loaded it (with the page's session cookie). */
async function scannedQr(page: Page): Promise<string> {
  const img = page.locator("#setup-qr");
  await page.waitForFunction(
    () => (document.getElementById("setup-qr") as HTMLImageElement | null)?.naturalWidth,
  );
  const src = (await img.getAttribute("src"))!;
  return page.evaluate(async (u) => (await fetch(u)).text(), src);
}

async function admin(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      "x-openclaw-admin-token": ADMIN_TOKEN,
      ...(body ? { "content-type": "application/json" } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

describe("console in Chromium", () => {
  let gw: ConsoleGateway;
  let page: Page;
  before(async () => {
    gw = await startConsoleGateway();
  });
  after(async () => {
    await gw.close();
  });

  test("the page is served with a strict CSP and the UI library from the package", async () => {
    const res = await fetch(`${gw.url}/console`);
    assert.equal(res.status, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    const preact = await fetch(`${gw.url}/console/assets/vendor/preact.js`);
    assert.equal(preact.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(await preact.text(), /export\s*\{/);
    assert.equal((await fetch(`${gw.url}/console/assets/..%2F..%2Fpackage.json`)).status, 404);
  });

  test("sign-in: a wrong token is refused with the server's reason; the right one lands on Overview", async () => {
    page = await openConsole(browser(), gw.url);
    await page.getByLabel("Admin token").fill("not-the-admin-token-at-all");
    await page.getByRole("button", { name: "Sign in" }).click();
    const error = page.locator("#signin-error");
    await error.filter({ hasText: /./ }).waitFor();
    assert.match((await error.textContent()) ?? "", /token/i);
    assert.equal(await page.getByRole("heading", { name: "Overview" }).count(), 0);
    await signIn(page);
    // A reload keeps the session (the HttpOnly cookie), without asking again.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    assert.equal(await page.evaluate(() => document.cookie), "", "the session cookie is HttpOnly");
  });

  test("Overview: queues and messages per minute arrive live", async () => {
    await page.locator("#queues").waitFor();
    await chat(gw.url, "hello from the overview test");
    const rate = page.locator('.rates li[data-channel="webchat"] .rate', { hasText: /^[1-9]\d*\/min$/ });
    await rate.waitFor();
    assert.match((await page.locator("#health").textContent()) ?? "", /ready/);
    const label = await page.locator('.rates li[data-channel="webchat"] svg').getAttribute("aria-label");
    assert.match(label ?? "", /^webchat: [1-9]\d* messages in the last minute$/);
  });

  test("Channels: restart an account; a section that does not validate shows the server's problems; add and remove one", async () => {
    await go(page, "Channels");
    const card = page.locator('[data-account="telegram/default"]');
    await card.waitFor();
    await card.getByRole("button", { name: "Restart telegram/default" }).click();
    await status(page, /Restart: done/);
    await waitFor(
      () => gw.telegram.callsTo("getMe", BOT.token).length >= 2,
      5000,
      "the bot restarted (getMe again)",
    );
    await page.getByLabel("Channel (telegram, slack, discord, …)").fill("slack");
    await page.getByLabel("Settings (JSON)").fill('{"botToken": 42}');
    await page.getByRole("button", { name: "Add and apply" }).click();
    const alert = page.locator("form .error[role=alert]");
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? "", /was not saved/);
    assert.ok((await alert.locator("li").count()) >= 1, "the problems are listed");

    // A valid section is added and runs at once; removing it stops it again.
    const line = await new FakeLine().start();
    try {
      await page.getByLabel("Channel (telegram, slack, discord, …)").fill("line");
      const settings = {
        channelSecret: "line-channel-secret-0123456789",
        channelAccessToken: line.token,
        apiBase: line.url,
      };
      await page.getByLabel("Settings (JSON)").fill(JSON.stringify(settings));
      await page.getByRole("button", { name: "Add and apply" }).click();
      await status(page, /^Applied: .*line/);
      const lineCard = page.locator('[data-account="line/default"]');
      await lineCard.waitFor();
      assert.equal(gw.gateway.adapter("line", "default")?.channel, "line");
      await page.locator('[data-section="line"] summary').click();
      await page.getByRole("button", { name: "Remove line" }).click();
      await lineCard.waitFor({ state: "detached" });
      assert.equal(gw.gateway.adapter("line", "default"), undefined);
    } finally {
      await line.stop();
    }
  });

  test("Conversations: search by text, open the history with the target and latency of the answer", async () => {
    await waitFor(
      async () => {
        const r = await admin(gw.url, "GET", "/admin/api/conversations?q=overview");
        return (r.conversations as unknown[]).length > 0;
      },
      5000,
      "the conversation is stored",
    );
    await go(page, "Conversations");
    await page.getByLabel("Text").fill("overview test");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("button", { name: /hello from the overview test/ }).click();
    const answer = page.locator(".msg.assistant", { hasText: "Here is the answer." });
    await answer.waitFor();
    assert.match((await answer.locator(".latency").textContent()) ?? "", /^\d+ ms$/);
    assert.match((await answer.locator(".target").textContent()) ?? "", /^target \S+/);
  });

  test("Dead letters: the reason and payload are shown; retry delivers, discard removes", async () => {
    for (const text of ["first dead letter", "second dead letter"]) {
      gw.telegram.failNextSend(400, "Bad Request: chat not found");
      await gw.gateway.deliver(
        { channel: "telegram", account: "default", conversationId: "4242" },
        { text },
        `dl-${text}`,
      );
    }
    await waitFor(async () => (await gw.gateway.store.outboxStats()).dead === 2, 5000, "two dead letters");
    await go(page, "Dead letters");
    const outbox = page.locator('[data-queue="outbox"]');
    const first = outbox.locator("li", { hasText: "first dead letter" });
    await first.waitFor();
    assert.match((await first.locator(".reason").textContent()) ?? "", /chat not found/);
    await first.getByRole("button", { name: /^Retry / }).click();
    await waitFor(
      () => gw.telegram.messages(BOT.token, "4242").some((m) => m.text === "first dead letter"),
      5000,
      "the retried delivery",
    );
    await first.waitFor({ state: "detached" });
    const second = outbox.locator("li", { hasText: "second dead letter" });
    await second.getByRole("button", { name: /^Discard / }).click();
    await second.waitFor({ state: "detached" });
    assert.equal((await gw.gateway.store.outboxStats()).dead, 0);
    assert.ok(!gw.telegram.messages(BOT.token, "4242").some((m) => m.text === "second dead letter"));
    // A new dead letter shows up on the open page without a reload (the live status's dead count changed).
    gw.telegram.failNextSend(400, "Bad Request: chat not found");
    await gw.gateway.deliver(
      { channel: "telegram", account: "default", conversationId: "4242" },
      { text: "third dead letter" },
      "dl-third",
    );
    await outbox.locator("li", { hasText: "third dead letter" }).waitFor();
    await outbox.getByRole("button", { name: /^Retry all 1/ }).click();
    await waitFor(
      () => gw.telegram.messages(BOT.token, "4242").some((m) => m.text === "third dead letter"),
      5000,
      "the bulk retry",
    );
  });

  test("Approvals: a waiting /run is rejected with a reason", async () => {
    const thread = await chat(gw.url, "/run txt2img a quiet harbour", "stranger");
    await go(page, "Approvals");
    const item = page.locator(".list li").first();
    await item.waitFor();
    await item.getByLabel("Reason (optional)").fill("not today");
    await item.getByRole("button", { name: /^Reject / }).click();
    await item.waitFor({ state: "detached" });
    assert.deepEqual((await admin(gw.url, "GET", "/admin/api/approvals")).approvals, []);
    await waitFor(
      async () => {
        const r = await fetch(`${gw.url}/api/threads/${thread}/messages`);
        const { messages } = (await r.json()) as { messages: { content: string }[] };
        return messages.some((m) => /Rejected/.test(m.content) && m.content.includes("not today"));
      },
      5000,
      "the requester is told, with the reason",
    );
    assert.equal(gw.comfy.submissions.length, 0, "nothing ran");
  });

  test("Schedules: the cron field previews the next runs; add, pause, resume, run now, remove", async () => {
    await go(page, "Schedules");
    await page.getByLabel("Template").fill("txt2img");
    await page.getByLabel("Deliver to").fill("webchat:default:sched");
    await page.getByLabel("Cron").fill("0 9 * * *");
    await page.locator("#cron-preview li").nth(4).waitFor();
    assert.equal(await page.locator("#cron-preview li").count(), 5);
    await page.getByLabel("Inputs (one key=value a line)").fill("prompt=a lighthouse");
    await page.getByRole("button", { name: "Add schedule" }).click();
    const row = page.locator(".list li", { hasText: "webchat:default:sched" });
    await row.waitFor();
    await row.getByRole("button", { name: /^Pause / }).click();
    await row.locator(".badge", { hasText: "paused" }).waitFor();
    await row.getByRole("button", { name: /^Resume / }).click();
    await row.locator(".badge", { hasText: "active" }).waitFor();
    await row.getByRole("button", { name: /^Run now / }).click();
    await waitFor(() => gw.comfy.submissions.length === 1, 5000, "the run reached ComfyUI");
    await row.getByRole("button", { name: /^Remove / }).click();
    await row.waitFor({ state: "detached" });
  });

  test("Config: effective values with their source, the admin token masked", async () => {
    await go(page, "Config");
    const row = page.locator('tr[data-key="adminToken"]');
    await row.waitFor();
    const text = (await row.textContent()) ?? "";
    assert.ok(!text.includes(ADMIN_TOKEN), "the admin token is masked");
    assert.match(text, /masked/);
    assert.equal(await row.locator(".src").textContent(), "file");
  });

  test("Audit: earlier actions are listed, and a new one arrives live", async () => {
    await go(page, "Audit");
    await page
      .locator("#audit tbody tr", { hasText: "/admin/api/channels/telegram/default/restart" })
      .waitFor();
    assert.match((await page.locator("#audit tbody tr").first().textContent()) ?? "", /console:/);
    await admin(gw.url, "POST", "/admin/api/inbox/retry-dead", {});
    await page
      .locator("#audit tbody tr")
      .first()
      .filter({ hasText: "/admin/api/inbox/retry-dead" })
      .waitFor();
    assert.match((await page.locator("#audit tbody tr").first().textContent()) ?? "", /admin-token/);
  });

  test("Pairing: a setup code as a QR with its countdown; the device's request approved, rotated, revoked", async () => {
    await go(page, "Pairing");
    await page.getByRole("button", { name: "Create a setup code" }).click();
    const code = (await page.locator("#setup-code").textContent()) ?? "";
    const svg = await scannedQr(page);
    assert.equal(
      svg,
      await QRCode.toString(code, { type: "svg", margin: 2 }),
      "the image is the QR of the code",
    );
    assert.match((await page.locator(".countdown").textContent()) ?? "", /^\d+:\d\d$/);
    const setup = decodeSetupCode(code)!;
    const hs = await fetch(`${setup.url}/bridge/handshake`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        bootstrap_token: setup.bootstrapToken,
        name: "kitchen tablet",
        platform: "android",
      }),
    });
    assert.equal(hs.status, 202);
    const request = page
      .locator(".list li", { hasText: "kitchen tablet" })
      .filter({ has: page.getByRole("button", { name: /^Approve / }) });
    await request.getByRole("button", { name: /^Approve / }).click();
    const device = page.locator('[aria-labelledby="devices-title"] li', { hasText: "kitchen tablet" });
    // The device collects its token on its next poll and is listed as paired; the operator rotates its token
    // (the new one is shown once).
    const { request_id, poll_token } = (await hs.json()) as { request_id: string; poll_token: string };
    const poll = await fetch(`${setup.url}/bridge/handshake`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ request_id, poll_token }),
    });
    assert.equal(poll.status, 200);
    // The list is read again every 5 s while the page is open.
    await device.locator(".badge", { hasText: "active" }).waitFor({ timeout: 20_000 });
    await device.getByRole("button", { name: /^Rotate token of / }).click();
    await page.getByText(/New token for .* \(shown once\)/).waitFor();
    await device.locator(".badge", { hasText: "active" }).waitFor();
    await device.getByRole("button", { name: /^Revoke / }).click();
    await device.locator(".badge", { hasText: "revoked" }).waitFor();
  });

  test("sign out ends the session, in the other tab too at its next call", async () => {
    const other = await browser().context.newPage();
    await other.goto(`${gw.url}/console`);
    await other.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token").waitFor();
    await other.getByRole("link", { name: "Channels" }).click();
    await other.getByLabel("Admin token").waitFor();
    await other.close();
    await page.reload();
    await page.getByLabel("Admin token").waitFor();
    await closeConsole(page);
  });
});

describe("console without an admin token", () => {
  test("a browser on this machine signs in with the field left empty", async () => {
    const gw = await startTestGateway();
    const page = await openConsole(browser(), gw.url);
    try {
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      await page.locator("#queues").waitFor();
    } finally {
      await closeConsole(page);
      await gw.stop();
    }
  });
});
