// The web chat in a real browser (Debian's Chromium via playwright-core) against a real gateway whose agent is
// the fake OpenAI-compatible server, streaming slowly enough that partial replies are visible. The page's
// robustness (ordering, retries, buttons) is in webchat-robustness.test.ts.
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { describe, test } from "node:test";
import { startTestGateway, type TestGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { UNREACHABLE_AGENT_URL } from "../helpers/unreachable.ts";
import { closePage, committedReply, openPage, replyTo, type, useBrowserAndAgent } from "./webchat-helpers.ts";

const SCREENSHOT = "/tmp/clawgate-webchat.png";
const { browser, agent } = useBrowserAndAgent();

async function messagesOf(url: string, thread: string) {
  const res = await fetch(`${url}/api/threads/${thread}/messages`);
  return ((await res.json()) as { messages: { role: string; content: string }[] }).messages;
}

describe("web chat in Chromium", () => {
  test("Enter sends, the reply streams in, the thread gets a title, and text is never parsed as HTML", async () => {
    const gw = await startTestGateway({ config: { agentUrl: agent().url } });
    const page = await openPage(browser(), `${gw.url}/`);
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
    let gw: TestGateway = await startTestGateway({ dir, config: { agentUrl: agent().url } });
    const port = Number(new URL(gw.url).port);
    const page = await openPage(browser(), `${gw.url}/`);
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
      const context = agent()
        .requests.at(-1)!
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
      gw = await startTestGateway({ dir, config: { agentUrl: agent().url, server: { port } } });
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
        agentUrl: UNREACHABLE_AGENT_URL,
        agent: { retries: 0 },
      },
    });
    const page = await openPage(browser(), `${gw.url}/`);
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
    const gw = await startTestGateway({ config: { agentUrl: agent().url } });
    const page = await openPage(browser(), `${gw.url}/`);
    const sentContext = () =>
      agent()
        .requests.at(-1)!
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
      config: { agentUrl: agent().url, server: { host: "0.0.0.0" }, webchat: { token } },
    });
    const port = new URL(gw.url).port;
    const remote = `http://${ip}:${port}`;
    const local = `http://127.0.0.1:${port}`;
    const page = await openPage(browser(), `${remote}/`);
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
    const gw = await startTestGateway({ config: { agentUrl: agent().url, server: { host: "0.0.0.0" } } });
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
