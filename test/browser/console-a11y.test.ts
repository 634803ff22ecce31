// The console's accessibility and small screens: an axe-core pass on every page (no serious or critical
// violations), keyboard use, and at 375 px no horizontal scrolling with the navigation behind its menu button.
// Screenshots of every page at both widths are kept in test-artifacts/console/.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { waitFor } from "../helpers/gateway.ts";
import { type ConsoleGateway, chat, startConsoleGateway } from "./console-gateway.ts";
import {
  axeProblems,
  closeConsole,
  go,
  openConsole,
  PAGES,
  screenshot,
  signIn,
  useBrowser,
} from "./console-helpers.ts";

const browser = useBrowser();

/** Waits until the page has nothing left loading, so axe and the screenshot see its content. */
async function settled(page: Page) {
  await page.waitForFunction(() => !document.querySelector("main")?.textContent?.includes("Loading…"));
}

describe("console accessibility and layout", () => {
  let gw: ConsoleGateway;
  before(async () => {
    gw = await startConsoleGateway();
    // Something on every page: a conversation, a dead letter, an approval waiting, a schedule.
    await chat(gw.url, "hello console");
    gw.telegram.failNextSend(400, "Bad Request: chat not found");
    await gw.gateway.deliver(
      { channel: "telegram", account: "default", conversationId: "77" },
      { text: "lost" },
      "a11y-dead",
    );
    await chat(gw.url, "/run txt2img a red kite", "stranger");
    await fetch(`${gw.url}/admin/api/schedules`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-openclaw-admin-token": "console-test-admin-token-0123456789",
      },
      body: JSON.stringify({ template: "txt2img", target: "webchat:default:x", cron: "0 9 * * *" }),
    });
    await waitFor(async () => (await gw.gateway.store.outboxStats()).dead === 1, 5000, "the dead letter");
  });
  after(async () => {
    await gw.close();
  });

  test("every page passes axe-core with no serious or critical violations", async () => {
    const page = await openConsole(browser(), gw.url);
    try {
      assert.deepEqual(await axeProblems(page), [], "sign-in page");
      await screenshot(page, "sign-in");
      await signIn(page);
      for (const [id, label] of PAGES) {
        await go(page, label);
        await settled(page);
        if (id === "pairing") await page.getByRole("button", { name: "Create a setup code" }).click();
        if (id === "pairing") await page.locator("#setup-qr").waitFor();
        assert.deepEqual(await axeProblems(page), [], `${label} page`);
        await screenshot(page, `desktop-${id}`);
      }
    } finally {
      await closeConsole(page);
    }
  });

  test("keyboard: the skip link, the navigation and focus on the new page's heading", async () => {
    const page = await openConsole(browser(), gw.url);
    try {
      await page.getByLabel("Admin token").focus();
      await page.keyboard.type("console-test-admin-token-0123456789");
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
      await page.keyboard.press("Tab");
      assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
      const channels = page.getByRole("link", { name: "Channels" });
      await channels.focus();
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Channels" }).waitFor();
      await page.waitForFunction(() => document.activeElement?.id === "page-title");
      assert.equal(await channels.getAttribute("aria-current"), "page");
      // Focus is drawn: the focused heading has a visible outline.
      await page.getByRole("link", { name: "Audit" }).focus();
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      assert.equal(outline, "solid");
    } finally {
      await closeConsole(page);
    }
  });

  test("at 375 px: no horizontal scrolling, and the navigation opens from its menu button", async () => {
    const page = await openConsole(browser(), gw.url, 375);
    try {
      await signIn(page);
      const nav = page.getByRole("navigation", { name: "Console pages" });
      assert.equal(await nav.isVisible(), false, "the navigation is collapsed");
      const menu = page.getByRole("button", { name: "Menu" });
      assert.equal(await menu.getAttribute("aria-expanded"), "false");
      for (const [id, label] of PAGES) {
        await go(page, label);
        await settled(page);
        assert.equal(await nav.isVisible(), false, `the navigation closes after choosing ${label}`);
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        await screenshot(page, `mobile-${id}`);
        assert.equal(overflow, 0, `${label} scrolls sideways by ${overflow} px`);
      }
      await menu.click();
      assert.equal(await menu.getAttribute("aria-expanded"), "true");
      await nav.waitFor();
      await screenshot(page, "mobile-menu-open");
    } finally {
      await closeConsole(page);
    }
  });
});
