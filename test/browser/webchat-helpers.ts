// Shared by the web chat browser tests: one Chromium per test file, pages that collect script errors, and the
// few interactions every test uses.
import assert from "node:assert/strict";
import { after, before } from "node:test";
import type { Page } from "playwright-core";
import { FakeAgent, type FakeAgentRequest } from "../fakes/openai-agent.ts";
import { launchChromium, type TestBrowser } from "../helpers/browser.ts";

export const lastUserText = (r: FakeAgentRequest) =>
  [...r.body.messages].reverse().find((m) => m.role === "user")!.content;
export const replyTo = (text: string) =>
  `Here is my answer to "${text}", written a few characters at a time.`;

/** A fake agent that streams `replyTo(<last user message>)` a few characters at a time. */
export function streamingAgent(chunkDelayMs = 20, chunkSize = 3): FakeAgent {
  return new FakeAgent({ chunkDelayMs, chunkSize, reply: (r) => replyTo(lastUserText(r)) });
}

/** Launches Chromium and a streaming agent for the file's tests; closes both at the end. */
export function useBrowserAndAgent(): { browser: () => TestBrowser; agent: () => FakeAgent } {
  let browser: TestBrowser | undefined;
  let agent: FakeAgent | undefined;
  before(async () => {
    browser = await launchChromium();
    agent = await streamingAgent().start();
  });
  after(async () => {
    await browser?.close();
    await agent?.stop();
  });
  return { browser: () => browser!, agent: () => agent! };
}

const pageErrors = new WeakMap<Page, string[]>();

/** A page whose script errors are collected; closePage fails the test if there were any. */
export async function openPage(browser: TestBrowser, url: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return page;
}

export async function closePage(page: Page) {
  await page.close();
  assert.deepEqual(pageErrors.get(page), [], "the page's script threw");
}

/** Types into the composer and presses Enter. */
export async function type(page: Page, text: string) {
  await page.locator("#input").fill(text);
  await page.locator("#input").press("Enter");
}

/** Waits until the reply is committed (rendered from history, not a streaming bubble). */
export async function committedReply(page: Page, text: string) {
  await page.locator(".msg.assistant[data-msg-id]", { hasText: text }).waitFor();
}
