// Two gateway replicas share one store; the page talks to one of them. A reply committed by the other replica
// (whose live stream this page does not see) still appears, without a reload.
import assert from "node:assert/strict";
import { test } from "node:test";
import { startTestGateway, tempDir } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { closePage, openPage, replyTo, useBrowserAndAgent } from "./webchat-helpers.ts";

const { browser, agent } = useBrowserAndAgent();

test("a reply processed by another replica shows up on the open page", async () => {
  const dir = tempDir("clawgate-replica-page-");
  const config = { agentUrl: agent().url };
  const a = await startTestGateway({ dir, config });
  const b = await startTestGateway({ dir, config });
  // Replica A serves the page but takes no work from the inbox: everything is answered by replica B.
  a.gateway.store.claimInbound = async () => [];
  const chat = new WebchatClient(a.url);
  const thread = await chat.createThread("shared");
  const page = await openPage(browser(), `${a.url}/#${thread}`);
  try {
    await page.locator(".thread.active").waitFor();
    const sent = await chat.send(thread, "answered elsewhere");
    const reply = await new WebchatClient(b.url).reply(thread, sent.eventId);
    assert.equal(reply.content, replyTo("answered elsewhere"));
    await page.locator(".msg", { hasText: replyTo("answered elsewhere") }).waitFor({ timeout: 10_000 });
    const shown = await page.locator("#messages .msg .text").allTextContents();
    assert.equal(shown.filter((t) => t === replyTo("answered elsewhere")).length, 1, "shown once");
  } finally {
    await closePage(page);
    await a.stop();
    await b.stop();
  }
});
