// axe-core in a test page, one way for every browser test. The script is evaluated through the debugging
// protocol, so the page's Content-Security-Policy (script-src 'self') does not block it, as it rightly blocks the
// inline <script> page.addScriptTag would add.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

export interface AxeOptions {
  /** Part of the page to check (a CSS selector); the whole document by default. */
  selector?: string;
  /** Only these rule tags (e.g. WCAG A/AA: ["wcag2a", "wcag2aa"]); every rule by default. */
  tags?: string[];
}

export async function runAxe(page: Page, o: AxeOptions = {}): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(SOURCE);
  return page.evaluate(async ({ selector, tags }) => {
    const axe = (
      globalThis as unknown as {
        axe: { run: (c: unknown, o: unknown) => Promise<{ violations: AxeViolation[] }> };
      }
    ).axe;
    const options = tags ? { runOnly: { type: "tag", values: tags } } : {};
    return (await axe.run(selector ?? document, options)).violations;
  }, o);
}

/** WCAG A/AA violations inside `selector`, as "rule: target" lines (empty when it passes). */
export async function axeViolations(page: Page, selector: string): Promise<string[]> {
  const violations = await runAxe(page, { selector, tags: ["wcag2a", "wcag2aa"] });
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")}`));
}

/** Serious and critical violations on the whole page, with their help text and where. */
export async function axeSerious(page: Page): Promise<string[]> {
  return (await runAxe(page))
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
