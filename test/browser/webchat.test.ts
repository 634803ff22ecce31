// The web chat in a real browser (Debian's Chromium via playwright-core) against a real gateway whose agent is
// the fake OpenAI-compatible server, streaming slowly enough that partial replies are visible.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import { channelTestExtension, testCommandPolicy } from "../channels/extension.ts";
import { FakeAgent, type FakeAgentRequest } from "../fakes/openai-agent.ts";
import { launchChromium, type TestBrowser } from "../helpers/browser.ts";
import { startTestGateway, type TestGateway, tempDir, waitFor } from "../helpers/gateway.ts";

const SCREENSHOT = "/tmp/clawgate-webchat.png";

const lastUserText = (r: FakeAgentRequest) =>
  [...r.body.messages].reverse().find((m) => m.role === "user")!.content;
const replyTo = (text: string) => `Here is my answer to "${text}", written a few characters at a time.`;

let browser: TestBrowser;
let agent: FakeAgent;

before(async () => {
  browser = await launchChromium();
  agent = await new FakeAgent({
    chunkDelayMs: 20,
    chunkSize: 3,
    reply: (r) => replyTo(lastUserText(r)),
  }).start();
});

after(async () => {
  await browser?.close();
  await agent?.stop();
});

const pageErrors = new WeakMap<Page, string[]>();

/** A page whose script errors are collected; closePage fails the test if there were any. */
async function openPage(url: string): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  pageErrors.set(page, errors);
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return page;
}

async function closePage(page: Page) {
  await page.close();
  assert.deepEqual(pageErrors.get(page), [], "the page's script threw");
}

async function type(page: Page, text: string) {
  await page.locator("#input").fill(text);
  await page.locator("#input").press("Enter");
}

/** Waits until the reply is committed (rendered from history, not a streaming bubble). */
async function committedReply(page: Page, text: string) {
  await page.locator(".msg.assistant[data-msg-id]", { hasText: text }).waitFor();
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function messagesOf(url: string, thread: string) {
  const res = await fetch(`${url}/api/threads/${thread}/messages`);
  return ((await res.json()) as { messages: { role: string; content: string }[] }).messages;
}

describe("web chat in Chromium", () => {
  test("Enter sends, the reply streams in, the thread gets a title, and text is never parsed as HTML", async () => {
    const gw = await startTestGateway({ config: { agentUrl: agent.url } });
    const page = await openPage(`${gw.url}/`);
    try {
      await type(page, "Hello gateway");
      await page.locator(".msg.user", { hasText: "Hello gateway" }).waitFor();
      assert.equal(await page.locator("#input").inputValue(), "", "the composer is cleared after sending");

      // A partial reply is on screen while the agent is still writing, then the full text replaces it.
      const partial = String(
        await (
          await page.waitForFunction(() => {
            const el = document.querySelector(".msg.streaming .text");
            return el?.textContent ? el.textContent : false;
          })
        ).jsonValue(),
      );
      const full = replyTo("Hello gateway");
      assert.ok(partial.length < full.length, `"${partial}" should be part of the reply, not all of it`);
      assert.ok(full.startsWith(partial), `"${partial}" is the start of the reply`);
      await committedReply(page, full);
      assert.equal(await page.locator(".msg.streaming").count(), 0, "no streaming bubble is left behind");
      assert.equal(await page.locator(".msg.assistant").count(), 1);

      await page.locator(".thread.active .title", { hasText: "Hello gateway" }).waitFor();
      await page.screenshot({ path: SCREENSHOT });

      // XSS: markup in a message and in the agent's echo of it stays text.
      const evil = `<img src=x onerror="window.__xss = 1"><b>bold</b>`;
      await type(page, evil);
      await committedReply(page, replyTo(evil));
      const user = page.locator(".msg.user[data-msg-id]", { hasText: "onerror" });
      assert.equal(await user.locator(".text").textContent(), evil);
      assert.equal(await page.locator("#messages img, #messages b, #threads img").count(), 0);
      assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("conversations are separate; reloading and restarting the gateway keep history", async () => {
    const dir = tempDir();
    let gw: TestGateway = await startTestGateway({ dir, config: { agentUrl: agent.url } });
    const port = Number(new URL(gw.url).port);
    const page = await openPage(`${gw.url}/`);
    try {
      await type(page, "first thread question");
      await committedReply(page, replyTo("first thread question"));
      const first = await page.locator(".thread.active").getAttribute("data-id");

      await page.locator("#new-thread").click();
      await page.waitForFunction(
        (id) => document.querySelector(".thread.active")?.getAttribute("data-id") !== id,
        first,
      );
      assert.equal(await page.locator("#messages .msg").count(), 0, "a new chat starts empty");
      await type(page, "second thread question");
      await committedReply(page, replyTo("second thread question"));
      const second = await page.locator(".thread.active").getAttribute("data-id");
      assert.notEqual(second, first);
      assert.equal(await page.locator("#messages", { hasText: "first thread" }).count(), 0);
      const context = agent.requests
        .at(-1)!
        .body.messages.map((m) => m.content)
        .join("\n");
      assert.doesNotMatch(context, /first thread/, "the agent does not see the other conversation");
      await page.locator(".thread .title", { hasText: "first thread question" }).waitFor();
      await page.locator(".thread .title", { hasText: "second thread question" }).waitFor();

      // Back to the first conversation, then a reload: the same thread and its history come back.
      await page.locator(`.thread[data-id="${first}"]`).click();
      await committedReply(page, replyTo("first thread question"));
      await page.reload();
      await committedReply(page, replyTo("first thread question"));
      assert.equal(await page.locator(".thread.active").getAttribute("data-id"), first);
      assert.equal(await page.locator(".msg[data-msg-id]").count(), 2);

      // Restart: while the gateway is down and the page cannot reconnect, a message arrives through the
      // API and is answered. Once the page can reconnect it catches up without a reload.
      await page.route("**/api/threads/*/events", (route) => route.abort());
      await gw.stop();
      await page.locator("#connection", { hasText: "reconnecting" }).waitFor();
      gw = await startTestGateway({ dir, config: { agentUrl: agent.url, server: { port } } });
      const res = await fetch(`${gw.url}/api/threads/${first}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: "sent while the page was away", clientMessageId: "restart-catch-up-1" }),
      });
      assert.equal(res.status, 202);
      const missed = replyTo("sent while the page was away");
      await waitFor(
        async () => (await messagesOf(gw.url, first!)).some((m) => m.content === missed),
        10_000,
        "the reply to the message sent while the page was away",
      );
      await page.unroute("**/api/threads/*/events");
      await committedReply(page, missed);
      await page.locator("#connection").waitFor({ state: "hidden" });

      // The live stream works again after the restart, and a fresh load shows the whole history.
      await type(page, "after the restart");
      await committedReply(page, replyTo("after the restart"));
      await page.reload();
      await committedReply(page, replyTo("after the restart"));
      const shown = await page.locator(".msg[data-msg-id] .text").allTextContents();
      assert.deepEqual(shown, [
        "first thread question",
        replyTo("first thread question"),
        "sent while the page was away",
        missed,
        "after the restart",
        replyTo("after the restart"),
      ]);
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("agent down: the page says the agent is unreachable and keeps the user's message", async () => {
    const gw = await startTestGateway({
      config: {
        agentUrl: `http://127.0.0.1:${await closedPort()}/v1/chat/completions`,
        agent: { retries: 0 },
      },
    });
    const page = await openPage(`${gw.url}/`);
    try {
      await type(page, "is anyone there?");
      const error = page.locator(".msg.error[data-msg-id]");
      await error.waitFor();
      const text = (await error.textContent()) ?? "";
      assert.match(text, /agent at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions is unreachable/);
      assert.match(text, /Your message was kept/);
      assert.doesNotMatch(text, /\n\s+at |TypeError|ECONNREFUSED/, "plain words, no stack trace or errno");
      assert.equal(await error.getAttribute("role"), "alert");
      const user = page.locator(".msg.user[data-msg-id]", { hasText: "is anyone there?" });
      await user.waitFor();
      // Distinct from a normal reply: its own class, label and colours.
      const [errBg, replyBg] = await page.evaluate(() => {
        const probe = document.createElement("div");
        probe.className = "msg assistant";
        document.getElementById("messages")!.append(probe);
        const bg = getComputedStyle(probe).backgroundColor;
        probe.remove();
        return [getComputedStyle(document.querySelector(".msg.error")!).backgroundColor, bg];
      });
      assert.notEqual(errBg, replyBg);
      await page.screenshot({ path: "/tmp/clawgate-webchat-error.png" });

      await page.reload();
      await page.locator(".msg.user[data-msg-id]", { hasText: "is anyone there?" }).waitFor();
      await page.locator(".msg.error[data-msg-id]", { hasText: "unreachable" }).waitFor();
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("/new starts a fresh context for the agent", async () => {
    const gw = await startTestGateway({ config: { agentUrl: agent.url } });
    const page = await openPage(`${gw.url}/`);
    const sentContext = () =>
      agent.requests
        .at(-1)!
        .body.messages.map((m) => m.content)
        .join("\n");
    try {
      await type(page, "remember the word apricot");
      await committedReply(page, replyTo("remember the word apricot"));
      await type(page, "which word?");
      await committedReply(page, replyTo("which word?"));
      assert.match(sentContext(), /apricot/, "before /new the agent sees earlier turns");

      await type(page, "/new");
      await page.locator(".msg.system[data-msg-id]", { hasText: "Started a new conversation" }).waitFor();
      await page.locator(".divider").waitFor();
      await type(page, "fresh question");
      await committedReply(page, replyTo("fresh question"));
      assert.doesNotMatch(sentContext(), /apricot|which word/, "after /new the earlier turns are not sent");
      assert.match(sentContext(), /fresh question/);
      // The earlier messages are still on screen, and the thread keeps its first title.
      await page.locator(".msg.user", { hasText: "remember the word apricot" }).waitFor();
      await page.locator(".thread.active .title", { hasText: "remember the word apricot" }).waitFor();
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("a message sent while a reply streams is shown after that reply", async () => {
    const slow = await new FakeAgent({
      chunkDelayMs: 40,
      chunkSize: 2,
      reply: (r) => replyTo(lastUserText(r)),
    }).start();
    const gw = await startTestGateway({ config: { agentUrl: slow.url } });
    const page = await openPage(`${gw.url}/`);
    try {
      await type(page, "first question");
      await page.locator(".msg.streaming").waitFor();
      await type(page, "second question");
      // When the first reply is complete the second message is still waiting or streaming, below it.
      await committedReply(page, replyTo("first question"));
      const early = await page.locator("#messages .msg .text").allTextContents();
      assert.deepEqual(early.slice(0, 3), ["first question", replyTo("first question"), "second question"]);
      await committedReply(page, replyTo("second question"));
      const shown = await page.locator("#messages .msg .text").allTextContents();
      assert.deepEqual(shown, [
        "first question",
        replyTo("first question"),
        "second question",
        replyTo("second question"),
      ]);
    } finally {
      await closePage(page);
      await gw.stop();
      await slow.stop();
    }
  });

  test("a send that fails keeps the text, and Retry sends it exactly once", async () => {
    const gw = await startTestGateway({ config: { agentUrl: agent.url } });
    const page = await openPage(`${gw.url}/`);
    const before = agent.requests.length;
    try {
      await type(page, "warm up");
      await committedReply(page, replyTo("warm up"));
      // The network drops the next message on its way to the gateway.
      await page.route("**/api/threads/*/messages", (route) =>
        route.request().method() === "POST" ? route.abort("connectionreset") : route.fallback(),
      );
      await type(page, "through a flaky network");
      const failed = page.locator(".msg.failed", { hasText: "through a flaky network" });
      await failed.waitFor();
      await page.locator("#banner", { hasText: "Not sent" }).waitFor();
      await page.unroute("**/api/threads/*/messages");

      await failed.locator(".retry").click();
      await committedReply(page, replyTo("through a flaky network"));
      await page.locator("#banner").waitFor({ state: "hidden" });
      assert.equal(await page.locator(".msg.user", { hasText: "through a flaky network" }).count(), 1);
      assert.equal(agent.requests.length - before, 2, "the agent was asked once per message");
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("replies with buttons and images render them, and a button press is answered", async () => {
    const gw = await startTestGateway({
      config: { agentUrl: agent.url, policy: testCommandPolicy },
      extensions: [channelTestExtension()],
    });
    const page = await openPage(`${gw.url}/`);
    try {
      await type(page, "/pick");
      const question = page.locator(".msg.system[data-msg-id]", { hasText: "Pick one" });
      await question.locator("button", { hasText: "Beta" }).click();
      await page.locator(".msg", { hasText: "picked beta" }).waitFor();
      assert.equal(await page.locator(".msg", { hasText: "picked beta" }).count(), 1);
      assert.equal(await page.locator(".msg.user").count(), 0, "a button press is not shown as a message");

      await type(page, "/img");
      const img = page.locator(".msg.system[data-msg-id]", { hasText: "here is the picture" }).locator("img");
      await img.waitFor();
      assert.equal(await img.getAttribute("alt"), "a pic");
      assert.ok(await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth === 32));
      // A plain reply afterwards is not mistaken for the earlier ones.
      await type(page, "plain text");
      await committedReply(page, replyTo("plain text"));
      assert.equal(await page.locator("#messages button", { hasText: "Beta" }).count(), 1);
      assert.equal(await page.locator("#messages img").count(), 1);
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("from a non-loopback address the API needs the bearer token", async (t) => {
    const ip = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (!ip) {
      t.skip("this machine has no non-loopback IPv4 address to call the gateway through");
      return;
    }
    const token = "webchat-test-token-0123456789";
    const gw = await startTestGateway({
      config: { agentUrl: agent.url, server: { host: "0.0.0.0" }, webchat: { token } },
    });
    const port = new URL(gw.url).port;
    const remote = `http://${ip}:${port}`;
    const local = `http://127.0.0.1:${port}`;
    const page = await openPage(`${remote}/`);
    try {
      const call = (path: string, init: RequestInit = {}) => fetch(remote + path, init);
      const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
      const refused = [
        await call("/api/threads"),
        await call("/api/threads", { headers: bearer("wrong-token-wrong-token") }),
        await call("/api/threads", { headers: { authorization: token } }), // not "Bearer <token>"
        await call("/api/threads/abc/messages", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text: "let me in" }),
        }),
        await call("/api/threads/abc/events"),
      ];
      for (const res of refused) {
        assert.equal(res.status, 401);
        assert.match(((await res.json()) as { error: string }).error, /Authorization: Bearer/);
      }
      const listed = (await (await fetch(`${local}/api/threads`)).json()) as { threads: unknown[] };
      assert.deepEqual(listed.threads, [], "a refused message created nothing");
      assert.equal((await call("/api/threads", { headers: bearer(token) })).status, 200);
      assert.equal((await fetch(`${local}/api/threads`)).status, 200, "loopback needs no token");

      // In the browser: without the token the page says how to sign in; with #token=… it works.
      await page.locator("#connection", { hasText: "#token=" }).waitFor();
      await page.goto(`${remote}/#token=${token}`);
      await type(page, "hello from the network");
      await committedReply(page, replyTo("hello from the network"));
      assert.doesNotMatch(page.url(), /token/, "the token does not stay in the address bar");
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("bound beyond loopback without a token, the API stays loopback-only", async (t) => {
    const ip = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (!ip) {
      t.skip("this machine has no non-loopback IPv4 address to call the gateway through");
      return;
    }
    const gw = await startTestGateway({ config: { agentUrl: agent.url, server: { host: "0.0.0.0" } } });
    try {
      const res = await fetch(`http://${ip}:${new URL(gw.url).port}/api/threads`, {
        headers: { authorization: "Bearer anything-at-all-here" },
      });
      assert.equal(res.status, 401);
      assert.match(((await res.json()) as { error: string }).error, /loopback-only until webchat.token/);
    } finally {
      await gw.stop();
    }
  });
});
