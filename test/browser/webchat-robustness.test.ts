// The web chat page's robustness in Chromium: a reply never lands below a later message, a failed send keeps
// its text and retries idempotently, and replies with buttons and images render them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { channelTestExtension, testCommandPolicy } from "../channels/extension.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import {
  closePage,
  committedReply,
  openPage,
  replyTo,
  streamingAgent,
  type,
  useBrowserAndAgent,
} from "./webchat-helpers.ts";

const { browser, agent } = useBrowserAndAgent();

describe("web chat page robustness in Chromium", () => {
  test("a message sent while a reply streams is shown after that reply", async () => {
    const slow = await streamingAgent(30, 3).start();
    const gw = await startTestGateway({ config: { agentUrl: slow.url } });
    const page = await openPage(browser(), `${gw.url}/`);
    try {
      await type(page, "first question");
      await page.locator(".msg.streaming").waitFor();
      // The bubble shows the reply's beginning, put together from increments (more than one of 3 characters).
      const partial = await page.locator(".msg.streaming .text").evaluate(
        (el) =>
          new Promise<string>((resolve) => {
            const check = () =>
              (el.textContent ?? "").length > 6 ? resolve(el.textContent!) : setTimeout(check, 10);
            check();
          }),
      );
      assert.ok(replyTo("first question").startsWith(partial), partial);
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

  test("a reload while a reply streams, and a gateway notification, each show the reply once", async () => {
    const slow = await streamingAgent(30, 3).start();
    const gw = await startTestGateway({ config: { agentUrl: slow.url } });
    const page = await openPage(browser(), `${gw.url}/`);
    try {
      await type(page, "reload during this");
      await page.locator(".msg.streaming").waitFor();
      await page.reload();
      await committedReply(page, replyTo("reload during this"));
      // A notification nobody asked for (a job result, an approval): stored in history and sent live.
      const thread = (await page.locator(".thread.active").getAttribute("data-id"))!;
      await gw.gateway.deliver(
        { channel: "webchat", account: "default", conversationId: thread },
        { text: "Your render finished." },
        "test-notification-1",
      );
      await page.locator(".msg", { hasText: "Your render finished." }).waitFor();
      // Events arrive in order: once this reply is in, every event before it has been handled.
      await type(page, "and now?");
      await committedReply(page, replyTo("and now?"));
      const shown = await page.locator("#messages .msg .text").allTextContents();
      assert.deepEqual(shown, [
        "reload during this",
        replyTo("reload during this"),
        "Your render finished.",
        "and now?",
        replyTo("and now?"),
      ]);
    } finally {
      await closePage(page);
      await gw.stop();
      await slow.stop();
    }
  });

  test("two notifications with the same text are each shown once, each with its own buttons", async () => {
    const gw = await startTestGateway({ config: { agentUrl: agent().url } });
    const page = await openPage(browser(), `${gw.url}/`);
    try {
      await type(page, "start");
      await committedReply(page, replyTo("start"));
      const thread = (await page.locator(".thread.active").getAttribute("data-id"))!;
      const to = { channel: "webchat", account: "default", conversationId: thread };
      // Both are in history before the page hears of the first: the page must tell them apart by id, not text.
      await Promise.all([
        gw.gateway.deliver(
          to,
          { text: "Render done.", buttons: [{ label: "Upscale first", value: "up:1" }] },
          "test-same-1",
        ),
        gw.gateway.deliver(
          to,
          { text: "Render done.", buttons: [{ label: "Upscale second", value: "up:2" }] },
          "test-same-2",
        ),
      ]);
      await page.locator("button", { hasText: "Upscale second" }).waitFor();
      await page.locator("button", { hasText: "Upscale first" }).waitFor();
      // Events arrive in order: once this reply is in, every event before it has been handled.
      await type(page, "and then?");
      await committedReply(page, replyTo("and then?"));
      const shown = await page.locator("#messages .msg .text").allTextContents();
      assert.deepEqual(shown, [
        "start",
        replyTo("start"),
        "Render done.",
        "Render done.",
        "and then?",
        replyTo("and then?"),
      ]);
      assert.deepEqual(
        await page.locator("#messages .msg .buttons").allTextContents(),
        ["Upscale first", "Upscale second"],
        "each notification keeps its own button, once",
      );
      assert.equal(await page.locator("#messages .msg[data-msg-id]", { hasText: "Render done." }).count(), 2);
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("code blocks, inline code and bold in replies are shown as such, and stay text", async () => {
    const markdown = [
      "Run `npm test` first:",
      "```sh",
      "npm install",
      'echo "<script>window.__xss = 1</script>"',
      "```",
      '**Done** — <img src=x onerror="window.__xss = 1">',
    ].join("\n");
    const writer = await new FakeAgent({ chunkSize: 5, chunkDelayMs: 5, reply: () => markdown }).start();
    const gw = await startTestGateway({ config: { agentUrl: writer.url } });
    const page = await openPage(browser(), `${gw.url}/`);
    try {
      await type(page, "how do I test? **not bold** when I type it");
      const reply = page.locator(".msg.assistant[data-msg-id]");
      await reply.waitFor();
      assert.equal(
        await reply.locator("pre code").textContent(),
        'npm install\necho "<script>window.__xss = 1</script>"\n',
      );
      assert.equal(await reply.locator("pre code").getAttribute("data-lang"), "sh");
      assert.equal(await reply.locator(":scope .text p > code").textContent(), "npm test");
      assert.equal(await reply.locator("strong").textContent(), "Done");
      assert.match((await reply.textContent()) ?? "", /<img src=x onerror=/);
      assert.equal(await page.locator("#messages script, #messages img").count(), 0);
      assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
      // What the user typed is shown exactly as typed.
      assert.equal(await page.locator(".msg.user strong").count(), 0);
      await page.locator(".msg.user", { hasText: "**not bold**" }).waitFor();
      await page.screenshot({ path: "/tmp/clawgate-webchat-markdown.png" });
    } finally {
      await closePage(page);
      await gw.stop();
      await writer.stop();
    }
  });

  test("deleting a conversation asks first, removes its history, and opens the next one", async () => {
    const gw = await startTestGateway({ config: { agentUrl: agent().url } });
    const page = await openPage(browser(), `${gw.url}/`);
    try {
      await type(page, "keep this one");
      await committedReply(page, replyTo("keep this one"));
      await page.locator("#new-thread").click();
      await page.locator("#messages .msg").first().waitFor({ state: "detached" });
      await type(page, "delete this one");
      await committedReply(page, replyTo("delete this one"));
      const doomed = (await page.locator(".thread.active").getAttribute("data-id"))!;
      const row = page.locator(".thread-row", { has: page.locator(`[data-id="${doomed}"]`) });

      page.once("dialog", (d) => void d.dismiss());
      await row.hover();
      await row.locator(".delete").click();
      assert.equal(await page.locator(".thread").count(), 2, "dismissing the question keeps the thread");

      page.once("dialog", (d) => {
        assert.match(d.message(), /Delete "delete this one" and its history\?/);
        void d.accept();
      });
      await row.hover();
      await row.locator(".delete").click();
      await committedReply(page, replyTo("keep this one"));
      assert.equal(await page.locator(".thread").count(), 1);
      assert.equal(await page.locator("#messages", { hasText: "delete this one" }).count(), 0);
      const res = await fetch(`${gw.url}/api/threads/${doomed}/messages`);
      assert.deepEqual(((await res.json()) as { messages: unknown[] }).messages, []);
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("a send that fails keeps the text, and Retry sends it exactly once", async () => {
    const gw = await startTestGateway({ config: { agentUrl: agent().url } });
    const page = await openPage(browser(), `${gw.url}/`);
    const before = agent().requests.length;
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
      assert.equal(agent().requests.length - before, 2, "the agent was asked once per message");
    } finally {
      await closePage(page);
      await gw.stop();
    }
  });

  test("replies with buttons and images render them, and a button press is answered", async () => {
    const gw = await startTestGateway({
      config: { agentUrl: agent().url, policy: testCommandPolicy },
      extensions: [channelTestExtension()],
    });
    const page = await openPage(browser(), `${gw.url}/`);
    try {
      await type(page, "/pick");
      const question = page.locator(".msg.system[data-msg-id]", { hasText: "Pick one" });
      await question.locator("button", { hasText: "Beta" }).click();
      await page.locator(".msg", { hasText: "picked beta" }).waitFor();
      assert.equal(await page.locator(".msg", { hasText: "picked beta" }).count(), 1);
      assert.equal(await page.locator(".msg.user").count(), 0, "a button press is not shown as a message");
      await page.locator("#toast", { hasText: "noted" }).waitFor();
      // A press nobody handles any more (sent here through the API, as a stale page would) is answered too.
      const thread = await page.locator(".thread.active").getAttribute("data-id");
      const stale = await fetch(`${gw.url}/api/threads/${thread}/actions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ value: "gone:42" }),
      });
      assert.equal(stale.status, 202);
      await page.locator("#toast", { hasText: "This button is no longer valid." }).waitFor();

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
});
