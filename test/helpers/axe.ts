// axe-core's WCAG A/AA violations inside a part of a page, as "rule: target" lines (empty when it passes).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

export async function axeViolations(page: Page, selector: string): Promise<string[]> {
  const source = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  // Evaluated through the debugging protocol, so the page's Content-Security-Policy does not block it.
  await page.evaluate(source);
  return page.evaluate(async (sel) => {
    type Violation = { id: string; nodes: { target: string[] }[] };
    const axe = (
      globalThis as unknown as {
        axe: { run: (c: unknown, o: unknown) => Promise<{ violations: Violation[] }> };
      }
    ).axe;
    const result = await axe.run(sel, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa"] } });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")}`));
  }, selector);
}
