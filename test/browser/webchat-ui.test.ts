// The chat page's own features in Chromium: Markdown answers (sanitized, highlighted, with a Copy button), stop,
// regenerate, edit-and-resend, copy, rename / search / delete threads, themes, a 375 px phone, keyboard
// shortcuts and axe-core. The agent is the fake OpenAI-compatible server; what it answers depends on the question.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { FakeAgent, type FakeAgentRequest } from "../fakes/openai-agent.ts";
import { axeSerious } from "../helpers/axe.ts";
import { launchChromium, type TestBrowser } from "../helpers/browser.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { closePage, lastUserText, openPage, type } from "./webchat-helpers.ts";

const MARKDOWN = [
  "## Shopping list",
  "",
  "- apples",
  "- pears",
  "",
  "> keep the receipt",
  "",
  "| item | price |",
  "| --- | --- |",
  "| apples | 3 |",
  "",
  "See [the docs](https://example.com/docs).",
  "",
  "```js",
  "const total = 3 + 4;",
  "```",
].join("\n");
const EVIL = [
  '<img src=x onerror="window.__xss = 1">',
  "[click me](javascript:window.__xss=2)",
  "[or me](JaVaScRiPt:window.__xss=3)",
  '<a href="javascript:window.__xss=4">raw link</a>',
  "![pic](javascript:window.__xss=5)",
].join("\n\n");

let answers = 0;
function answer(r: FakeAgentRequest): string {
  const q = String(lastUserText(r));
  if (q === "markdown please") return MARKDOWN;
  if (q === "evil please") return EVIL;
  if (q.startsWith("slow")) return `Slow answer: ${"word ".repeat(600)}`;
  return `answer ${++answers} to ${q}`;
}

let browser: TestBrowser;
let agent: FakeAgent;
let gw: TestGateway;
before(async () => {
  browser = await launchChromium();
  agent = await new FakeAgent({ chunkSize: 3, chunkDelayMs: 10, reply: answer }).start();
  gw = await startTestGateway({ config: { agentUrl: agent.url } });
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gw.url });
});
after(async () => {
  await gw?.stop();
  await agent?.stop();
  await browser?.close();
});

/** A fresh page on a new thread. */
async function freshPage(): Promise<Page> {
  const page = await openPage(browser, `${gw.url}/`);
  const created = await page.evaluate(async () => {
    const res = await fetch("/api/threads", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    return ((await res.json()) as { id: string }).id;
  });
  await page.goto(`${gw.url}/#${created}`);
  await page.reload();
  await page.locator(`.thread.active[data-id="${created}"]`).waitFor();
  return page;
}

const answerRow = (page: Page, text: string) =>
  page.locator(".msg.assistant[data-msg-id]", { hasText: text });
const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());

describe("web chat page features in Chromium", () => {
  test("an answer's Markdown renders as elements; code is highlighted and its Copy button copies it", async () => {
    const page = await freshPage();
    try {
      await type(page, "markdown please");
      const row = answerRow(page, "Shopping list");
      await row.waitFor();
      assert.equal(await row.locator("h2").textContent(), "Shopping list");
      assert.deepEqual(await row.locator("ul > li").allTextContents(), ["apples", "pears"]);
      assert.equal(await row.locator("blockquote").textContent(), "\nkeep the receipt\n");
      assert.deepEqual(await row.locator("table td").allTextContents(), ["apples", "3"]);
      const link = row.locator("a", { hasText: "the docs" });
      assert.equal(await link.getAttribute("href"), "https://example.com/docs");
      assert.equal(await link.getAttribute("rel"), "noopener noreferrer");
      assert.equal(await link.getAttribute("target"), "_blank");
      const code = row.locator("pre code");
      assert.equal(await code.textContent(), "const total = 3 + 4;\n");
      assert.ok(await code.evaluate((el) => el.classList.contains("hljs")));
      assert.equal(await code.locator("span.hljs-keyword").first().textContent(), "const");
      assert.equal(await code.locator("span.hljs-number").count(), 2);

      await row.getByRole("button", { name: "Copy code (js)" }).click();
      assert.equal(await clipboard(page), "const total = 3 + 4;\n");
      await row.getByRole("button", { name: "Copy message" }).click();
      assert.equal(await clipboard(page), MARKDOWN, "Copy on a message copies its Markdown source");
    } finally {
      await closePage(page);
    }
  });

  test("markup and javascript: links in an answer are inert, while it streams and once stored", async () => {
    const page = await freshPage();
    try {
      // Every rendering of the partial answer is checked, not only the last one.
      await page.evaluate(() => {
        (window as unknown as { __bad: string[] }).__bad = [];
        new MutationObserver(() => {
          for (const el of document.querySelectorAll(
            "#messages img, #messages [onerror], #messages a[href]",
          )) {
            const href = el.getAttribute("href");
            if (el.tagName !== "A" || !/^https?:/.test(href ?? ""))
              (window as unknown as { __bad: string[] }).__bad.push(el.outerHTML);
          }
        }).observe(document.getElementById("messages")!, { childList: true, subtree: true });
      });
      await type(page, "evil please");
      const row = answerRow(page, "raw link");
      await row.waitFor();
      assert.match((await row.textContent()) ?? "", /<img src=x onerror="window.__xss = 1">/);
      assert.match((await row.textContent()) ?? "", /<a href="javascript:window.__xss=4">raw link<\/a>/);
      for (const name of ["click me", "or me", "pic"]) {
        const a = row.locator("a", { hasText: name });
        assert.equal(await a.getAttribute("href"), null, `${name} has no javascript: URL`);
        await a.click();
      }
      assert.deepEqual(await page.evaluate(() => (window as unknown as { __bad: string[] }).__bad), []);
      assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    } finally {
      await closePage(page);
    }
  });

  test("Stop (and Esc) ends a streaming answer; Regenerate then answers; Edit replaces history from there", async () => {
    const page = await freshPage();
    try {
      await type(page, "slow one");
      await page.locator(".msg.streaming", { hasText: "Slow answer" }).waitFor();
      await page.locator("#stop").click();
      const stopped = page.locator(".msg.stopped");
      await stopped.locator(".stopped-note", { hasText: "Stopped" }).waitFor();
      await page.locator("#stop").waitFor({ state: "hidden" });
      const partial = (await stopped.locator(".text").textContent()) ?? "";
      assert.ok(partial.length < 600 * 5, "the answer did not run to its end");
      assert.equal(await page.locator(".msg.streaming").count(), 0);
      await page.locator(".msg.user[data-msg-id]", { hasText: "slow one" }).waitFor();

      // Esc stops too.
      await type(page, "slow two");
      await page.locator(".msg.streaming", { hasText: "Slow answer" }).waitFor();
      await page.locator("body").press("Escape");
      await page.locator(".msg.stopped").nth(1).waitFor();

      // Regenerate answers "slow two" again... which is slow: stop it, then ask something quick and regenerate.
      await type(page, "quick");
      const first = answerRow(page, "to quick");
      await first.waitFor();
      const before = (await first.textContent())!;
      await first.getByRole("button", { name: "Regenerate this answer" }).click();
      await page
        .locator(".msg.assistant[data-msg-id]", { hasText: "to quick" })
        .filter({ hasNotText: before.slice(0, 9) })
        .waitFor();
      assert.equal(await answerRow(page, "to quick").count(), 1, "the old answer is replaced, not kept");
      assert.equal(await page.locator(".msg.user[data-msg-id]", { hasText: "quick" }).count(), 1);

      // Edit "slow one" (the first message): everything after it goes, the edited text is answered.
      const mine = page.locator(".msg.user[data-msg-id]", { hasText: "slow one" });
      await mine.getByRole("button", { name: "Edit and resend this message" }).click();
      await page.getByRole("textbox", { name: "Edit your message" }).fill("edited question");
      await page.getByRole("textbox", { name: "Edit your message" }).press("Enter");
      await answerRow(page, "to edited question").waitFor();
      const rows = await page
        .locator("#messages > .msg")
        .evaluateAll((els) =>
          els.map(
            (el) =>
              `${el.classList.contains("user") ? "user" : "assistant"}: ${el.querySelector(".text")?.textContent}`,
          ),
        );
      assert.equal(rows.length, 2, rows.join(" | "));
      assert.equal(rows[0], "user: edited question");
      assert.match(rows[1]!, /^assistant: answer \d+ to edited question$/);
      // A reload shows the same: the history was replaced on the gateway.
      await page.reload();
      await answerRow(page, "to edited question").waitFor();
      assert.equal(await page.locator("#messages > .msg").count(), 2);
    } finally {
      await closePage(page);
    }
  });

  test("threads are renamed in place, searched by title and text, and deleted", async () => {
    const page = await freshPage();
    try {
      await type(page, "penguins of antarctica");
      await answerRow(page, "to penguins").waitFor();
      const id = await page.locator(".thread.active").getAttribute("data-id");
      await page.getByRole("button", { name: 'Rename "penguins of antarctica"' }).click();
      await page.getByRole("textbox", { name: "New name for the conversation" }).fill("Birds");
      await page.getByRole("textbox", { name: "New name for the conversation" }).press("Enter");
      await page.locator(`.thread[data-id="${id}"] .title`, { hasText: "Birds" }).waitFor();

      await page.locator("body").press("/");
      assert.equal(await page.evaluate(() => document.activeElement?.id), "search", "/ focuses the search");
      await page.keyboard.type("ANTARCTICA");
      await page.waitForFunction(
        (want) =>
          [...document.querySelectorAll(".thread")].map((b) => b.getAttribute("data-id")).join() === want,
        id,
      );
      await page.locator("#search").fill("no such words anywhere");
      await page.locator(".no-match").waitFor();
      await page.locator("#search").press("Escape");
      await page.locator(`.thread[data-id="${id}"]`).waitFor();

      page.once("dialog", (d) => d.accept());
      await page.getByRole("button", { name: 'Delete "Birds"' }).click();
      await page.locator(`.thread[data-id="${id}"]`).waitFor({ state: "detached" });
      const res = await fetch(`${gw.url}/api/threads/${id}/messages`);
      assert.deepEqual(((await res.json()) as { messages: unknown[] }).messages, []);
    } finally {
      await closePage(page);
    }
  });

  test("the theme follows the system, axe finds nothing serious in either, and ? opens the shortcuts", async () => {
    const page = await freshPage();
    try {
      await type(page, "markdown please");
      await answerRow(page, "Shopping list").waitFor();
      const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await page.emulateMedia({ colorScheme: "light" });
      const light = await background();
      assert.deepEqual(await axeSerious(page), [], "light theme");
      await page.emulateMedia({ colorScheme: "dark" });
      const dark = await background();
      assert.notEqual(dark, light);
      assert.equal(dark, "rgb(17, 20, 24)");
      assert.deepEqual(await axeSerious(page), [], "dark theme");

      // Single-key shortcuts act outside text fields: "?" typed into the message box is just a question mark.
      await page.locator("#input").press("?");
      assert.equal(await page.locator("#input").inputValue(), "?");
      await page.locator("#input").fill("");
      await page.locator("#messages").click({ position: { x: 5, y: 5 } });
      await page.keyboard.press("?");
      const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
      await help.waitFor();
      assert.match((await help.textContent()) ?? "", /Esc\s*Stop the answer being written/);
      assert.deepEqual(await axeSerious(page), [], "the help dialog");
      await page.keyboard.press("Escape");
      await help.waitFor({ state: "hidden" });
    } finally {
      await page.emulateMedia({ colorScheme: null });
      await closePage(page);
    }
  });

  test("shortcuts: Alt+Shift+N opens a new chat, ↑ in an empty box edits the last message, Alt+Shift+R regenerates", async () => {
    const page = await freshPage();
    try {
      await type(page, "first words");
      await answerRow(page, "to first words").waitFor();
      const before = (await answerRow(page, "to first words").textContent())!;
      await page.locator("#input").press("ArrowUp");
      const box = page.getByRole("textbox", { name: "Edit your message" });
      assert.equal(await box.inputValue(), "first words");
      await box.press("Escape");
      await box.waitFor({ state: "detached" });
      await page.keyboard.press("Alt+Shift+R");
      await page
        .locator(".msg.assistant[data-msg-id]", { hasText: "to first words" })
        .filter({ hasNotText: before.slice(0, 9) })
        .waitFor();
      const id = await page.locator(".thread.active").getAttribute("data-id");
      await page.keyboard.press("Alt+Shift+N");
      await page.waitForFunction(
        (old) => document.querySelector(".thread.active")?.getAttribute("data-id") !== old,
        id,
      );
      assert.equal(await page.locator("#messages .msg").count(), 0);
    } finally {
      await closePage(page);
    }
  });

  test("at 375 px the page does not scroll sideways and the conversation list is reachable", async () => {
    const page = await freshPage();
    try {
      await page.setViewportSize({ width: 375, height: 740 });
      await type(page, "markdown please");
      await answerRow(page, "Shopping list").waitFor();
      const sideways = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.equal(sideways, 0);
      const thread = page.locator(".thread.active");
      assert.ok(await thread.isVisible());
      const box = (await thread.boundingBox())!;
      assert.ok(box.x >= 0 && box.x + box.width <= 375, JSON.stringify(box));
      for (const id of ["#send", "#attach", "#input", "#new-thread", "#search"]) {
        const b = (await page.locator(id).boundingBox())!;
        assert.ok(b.x >= 0 && b.x + b.width <= 375, `${id} fits: ${JSON.stringify(b)}`);
      }
    } finally {
      await closePage(page);
    }
  });
});
