// Shared by the console's browser tests: one Chromium per file, pages that collect script errors and CSP
// refusals, sign-in, moving between pages, the axe-core pass and screenshots kept under test-artifacts/console/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import type { Page } from "playwright-core";
import { launchChromium, type TestBrowser } from "../helpers/browser.ts";

export const ADMIN_TOKEN = "console-test-admin-token-0123456789";
export const ARTIFACTS = resolve(import.meta.dirname, "../../test-artifacts/console");

export const PAGES = [
  ["overview", "Overview"],
  ["channels", "Channels"],
  ["conversations", "Conversations"],
  ["dead-letters", "Dead letters"],
  ["approvals", "Approvals"],
  ["pairing", "Pairing"],
  ["schedules", "Schedules"],
  ["config", "Config"],
  ["audit", "Audit"],
] as const;

export function useBrowser(): () => TestBrowser {
  let browser: TestBrowser | undefined;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser!;
}

const problems = new WeakMap<Page, string[]>();

/** A console page: script errors and CSP refusals are collected (closeConsole fails on any); confirms accepted. */
export async function openConsole(browser: TestBrowser, url: string, width = 1100): Promise<Page> {
  const page = await browser.context.newPage();
  page.setDefaultTimeout(10_000);
  await page.setViewportSize({ width, height: 800 });
  const errors: string[] = [];
  problems.set(page, errors);
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  page.on("dialog", (d) => void d.accept());
  // Every test signs in itself: no session left from another test's page.
  await browser.context.clearCookies();
  await page.goto(`${url}/console`);
  return page;
}

export async function closeConsole(page: Page) {
  await page.close();
  assert.deepEqual(problems.get(page), [], "the page threw or the CSP refused something");
}

export async function signIn(page: Page, token = ADMIN_TOKEN) {
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Overview" }).waitFor();
}

/** Opens a page from the navigation (through the menu button when the nav is collapsed). */
export async function go(page: Page, label: string) {
  const menu = page.getByRole("button", { name: "Menu" });
  if (await menu.isVisible()) await menu.click();
  await page.getByRole("navigation", { name: "Console pages" }).getByRole("link", { name: label }).click();
  await page.getByRole("heading", { level: 1, name: label }).waitFor();
}

/** The status line's text once it says something matching `re`. */
export async function status(page: Page, re: RegExp): Promise<string> {
  await page.locator("#status-line", { hasText: re }).waitFor();
  return (await page.locator("#status-line").textContent()) ?? "";
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

export { axeSerious as axeProblems } from "../helpers/axe.ts";

export async function screenshot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
