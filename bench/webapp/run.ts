// npm run bench:webapp — what the web chat costs a person in Chromium, against what cannot be avoided:
//   first paint (and the load event) of `/` on the gateway (its page, CSP, libraries from /assets/vendor/) against the same HTML and CSS
//   served by a bare node:http server, each in a fresh browser context (nothing cached);
//   time to the first streamed token: Enter pressed in the page → the first characters of the answer on screen,
//   against the agent's own time to its first chunk asked directly (the fake agent, answering at once).
// Samples alternate between the two sides so both see the same machine load. Prints medians and p90s.
//
//   npm run bench:webapp -- [--samples 15]
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { FakeAgent } from "../../test/fakes/openai-agent.ts";
import { CHROMIUM } from "../../test/helpers/browser.ts";
import { startTestGateway } from "../../test/helpers/gateway.ts";

const { values: args } = parseArgs({ options: { samples: { type: "string", default: "15" } } });
const N = Number(args.samples);
const WEB = new URL("../../web/", import.meta.url);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

// The baseline: the page's own HTML and stylesheet, nothing else (its script is an empty module).
const html = readFileSync(new URL("index.html", WEB));
const css = readFileSync(new URL("chat.css", WEB));
const baseline = createServer((req, res) => {
  const [type, body] =
    req.url === "/"
      ? ["text/html; charset=utf-8", html]
      : req.url === "/assets/chat.css"
        ? ["text/css; charset=utf-8", css]
        : ["text/javascript; charset=utf-8", Buffer.alloc(0)];
  res.writeHead(200, { "content-type": type, "content-length": body.length });
  res.end(body);
});
await new Promise<void>((r) => baseline.listen(0, "127.0.0.1", r));
const baselineUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}`;

const agent = await new FakeAgent({
  chunkSize: 8,
  reply: () => "The first words of a streamed answer, and more.",
}).start();
const gw = await startTestGateway({ config: { agentUrl: agent.url } });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu"],
});

/** First contentful paint, and the load event (every script, the libraries included, has run). */
async function firstPaint(url: string): Promise<{ fcp: number; load: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url, { waitUntil: "load" });
  const fcp = await page.waitForFunction(() => {
    const e = performance.getEntriesByName("first-contentful-paint")[0];
    return e ? e.startTime : false;
  });
  const value = Number(await fcp.jsonValue());
  const load = await page.evaluate(
    () => (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming).loadEventEnd,
  );
  await context.close();
  return { fcp: value, load };
}

/** The agent asked directly: request sent → first streamed chunk received. */
async function agentFirstChunk(): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${agent.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  const reader = res.body!.getReader();
  await reader.read();
  const t = performance.now() - started;
  await reader.cancel();
  return t;
}

const pageContext = await browser.newContext();
const chatPage = await pageContext.newPage();
await chatPage.goto(`${gw.url}/`);
/** In the page: Enter pressed → the first characters of the answer rendered. */
async function pageFirstToken(i: number): Promise<number> {
  await chatPage.locator("#input").fill(`question ${i}`);
  const t = await chatPage.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const list = document.getElementById("messages")!;
        const before = list.querySelectorAll(".msg.assistant").length;
        const started = performance.now();
        const seen = new MutationObserver(() => {
          const answers = list.querySelectorAll(".msg.assistant");
          if (answers.length > before && answers[answers.length - 1]!.querySelector(".text")?.textContent) {
            seen.disconnect();
            resolve(performance.now() - started);
          }
        });
        seen.observe(list, { childList: true, subtree: true, characterData: true });
        document
          .getElementById("input")!
          .dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
      }),
  );
  // The answer is committed before the next question, so each sample starts from a quiet thread.
  await chatPage.locator(".msg.assistant[data-msg-id]").nth(i).waitFor();
  return t;
}

const paint = { gateway: [] as number[], baseline: [] as number[] };
const loaded = { gateway: [] as number[], baseline: [] as number[] };
const token = { page: [] as number[], agent: [] as number[] };
await firstPaint(`${gw.url}/`); // warm-up: the gateway reads its files once
for (let i = 0; i < N; i++) {
  const b = await firstPaint(`${baselineUrl}/`);
  const g = await firstPaint(`${gw.url}/`);
  paint.baseline.push(b.fcp);
  paint.gateway.push(g.fcp);
  loaded.baseline.push(b.load);
  loaded.gateway.push(g.load);
  token.agent.push(await agentFirstChunk());
  token.page.push(await pageFirstToken(i));
}

console.log(`samples: ${N}; load average ${loadavg()[0]!.toFixed(2)}`);
console.log("| measure | baseline | gateway | added |");
console.log("| --- | ---: | ---: | ---: |");
for (const [name, b, g] of [
  ["first contentful paint of / (median)", pct(paint.baseline, 0.5), pct(paint.gateway, 0.5)],
  ["first contentful paint of / (p90)", pct(paint.baseline, 0.9), pct(paint.gateway, 0.9)],
  ["load event of / (median)", pct(loaded.baseline, 0.5), pct(loaded.gateway, 0.5)],
  ["first streamed token (median)", pct(token.agent, 0.5), pct(token.page, 0.5)],
  ["first streamed token (p90)", pct(token.agent, 0.9), pct(token.page, 0.9)],
] as const) {
  console.log(`| ${name} | ${ms(b)} | ${ms(g)} | ${ms(g - b)} |`);
}

await browser.close();
await gw.stop();
await agent.stop();
baseline.close();
