// Files in the web chat, in Chromium against a real gateway and the fake agent: a pasted picture reaches the
// agent with its exact bytes and shows in the thread (again after a reload), a PDF chosen with the Attach
// button reaches the agent as its text, a dropped file joins the tray, a picture in the answer is shown, and a
// file over the limit is refused with the message and the file put back into the composer.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { FakeAgent, type FakeAgentRequest, imagesOf, textOf } from "../fakes/openai-agent.ts";
import { axeViolations } from "../helpers/axe.ts";
import { launchChromium, type TestBrowser } from "../helpers/browser.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";
import { closePage, committedReply, openPage } from "./webchat-helpers.ts";

const lastUser = (r: FakeAgentRequest) => [...r.body.messages].reverse().find((m) => m.role === "user")!;

/** What the fake agent answers: how many pictures it got, and the text (with any file's text) it read. */
function answer(r: FakeAgentRequest): string {
  const text = textOf(lastUser(r).content);
  if (text.startsWith("draw"))
    return `Here you go:\n\n![a red square](data:image/png;base64,${RED.toString("base64")})`;
  return `I got ${imagesOf(r).length} picture(s) and read: ${text.replace(/\s+/g, " ").trim()}`;
}

let RED: Buffer;
let PHOTO: Buffer;

/** Pastes a file into the message box the way a browser does when a picture is on the clipboard. */
async function paste(page: Page, bytes: Buffer, name: string, type: string) {
  await page.locator("#input").evaluate(
    (el, f) => {
      const data = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([data], f.name, { type: f.type }));
      el.dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    },
    { b64: bytes.toString("base64"), name, type },
  );
}

describe("web chat attachments in Chromium", () => {
  let browser: TestBrowser;
  let agent: FakeAgent;
  let gw: TestGateway;

  before(async () => {
    RED = await sharp({ create: { width: 4, height: 4, channels: 4, background: "#f00" } })
      .png()
      .toBuffer();
    PHOTO = await sharp({ create: { width: 12, height: 8, channels: 3, background: "#48c" } })
      .png()
      .toBuffer();
    browser = await launchChromium();
    agent = await new FakeAgent({ reply: answer }).start();
    gw = await startTestGateway({ config: { agentUrl: agent.url } });
  });
  after(async () => {
    await gw?.stop();
    await browser?.close();
    await agent?.stop();
  });

  test("a pasted picture shows a preview, reaches the agent with its exact bytes, and stays in the thread", async () => {
    const page = await openPage(browser, `${gw.url}/`);
    try {
      await paste(page, PHOTO, "image.png", "image/png");
      const preview = page.locator("#attachments .attachment");
      await preview.waitFor();
      assert.match((await preview.locator(".name").textContent()) ?? "", /^image\.png \(\d+ bytes\)$/);
      assert.match((await preview.locator("img").getAttribute("src")) ?? "", /^blob:/);
      await page.locator("#input").fill("what is this?");
      await page.locator("#input").press("Enter");

      const reply = "I got 1 picture(s) and read: what is this?";
      await committedReply(page, reply);
      assert.equal(await page.locator("#attachments").isHidden(), true, "the tray is empty after sending");
      const request = agent.requests.find((r) => textOf(lastUser(r).content) === "what is this?");
      assert.ok(request, "the agent got the message");
      const [image] = imagesOf(request);
      assert.equal(image?.mime, "image/png");
      assert.ok(image.bytes.equals(PHOTO), "the agent got the exact bytes");

      const src = `data:image/png;base64,${PHOTO.toString("base64")}`;
      await page.reload();
      await committedReply(page, reply);
      const shown = page.locator(".msg.user[data-msg-id] img");
      assert.equal(await shown.getAttribute("src"), src, "the picture is in the history");
      assert.equal(await shown.getAttribute("alt"), "image.png");
    } finally {
      await closePage(page);
    }
  });

  test("a PDF chosen with the Attach button reaches the agent as its text; Remove takes a file out by keyboard", async () => {
    const page = await openPage(browser, `${gw.url}/`);
    try {
      const pdf = makePdf([{ lines: ["The invoice total is 42 euros."] }]);
      await page.locator("label[for=file]", { hasText: "Attach" }).waitFor();
      await page.locator("#file").setInputFiles([
        { name: "invoice.pdf", mimeType: "application/pdf", buffer: pdf },
        { name: "extra.txt", mimeType: "text/plain", buffer: Buffer.from("not this one") },
      ]);
      await page.locator("#attachments .attachment").nth(1).waitFor();
      assert.deepEqual(
        await axeViolations(page, "main"),
        [],
        "the composer and the tray pass axe's WCAG A/AA rules",
      );
      const remove = page.getByRole("button", { name: "Remove extra.txt" });
      await remove.focus();
      await page.keyboard.press("Enter");
      await page.locator("#attachments .attachment", { hasText: "extra.txt" }).waitFor({ state: "detached" });
      assert.deepEqual(await page.locator("#attachments .attachment .name").allTextContents(), [
        `invoice.pdf (${pdf.length} bytes)`,
      ]);
      await page.locator("#send").click();

      await committedReply(page, 'read: [file "invoice.pdf"] The invoice total is 42 euros.');
      const request = agent.requests.find((r) => /invoice\.pdf/.test(textOf(lastUser(r).content)));
      assert.doesNotMatch(textOf(lastUser(request!).content), /not this one/);
      await page.locator(".msg.user .file-chip", { hasText: "invoice.pdf" }).waitFor();
    } finally {
      await closePage(page);
    }
  });

  test("a file dropped onto the chat joins the tray; a picture in the answer is shown as a picture", async () => {
    const page = await openPage(browser, `${gw.url}/`);
    try {
      await page.locator("main").evaluate((el, b64) => {
        const dt = new DataTransfer();
        dt.items.add(
          new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], "drop.png", { type: "image/png" }),
        );
        el.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
        el.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, RED.toString("base64"));
      await page.locator("#attachments .attachment", { hasText: "drop.png" }).waitFor();
      await page.getByRole("button", { name: "Remove drop.png" }).click();

      await page.locator("#input").fill("draw a red square");
      await page.locator("#input").press("Enter");
      const picture = page.locator('.msg.assistant img[alt="a red square"]');
      await picture.waitFor();
      assert.equal(await picture.getAttribute("src"), `data:image/png;base64,${RED.toString("base64")}`);
      await committedReply(page, "Here you go:");
      assert.equal(await picture.count(), 1, "shown once");
      // Reopened, the thread still shows the answer's picture.
      await page.reload();
      await committedReply(page, "Here you go:");
      await picture.waitFor();
      assert.equal(await picture.count(), 1);
      assert.equal(await picture.getAttribute("src"), `data:image/png;base64,${RED.toString("base64")}`);
    } finally {
      await closePage(page);
    }
  });

  test("a picture over the limit is refused with the reason, and the message goes back into the composer", async () => {
    const small = await startTestGateway({
      config: { agentUrl: agent.url, media: { inbound: { maxImageMb: 0.001 } } },
    });
    const page = await openPage(browser, `${small.url}/`);
    try {
      // 1 KB is the limit here: the picture with 3 KB more after it is over.
      await paste(page, Buffer.concat([PHOTO, randomBytes(3000)]), "big.png", "image/png");
      await page.locator("#attachments .attachment").waitFor();
      await page.locator("#input").fill("please look");
      await page.locator("#input").press("Enter");
      await page.locator("#banner", { hasText: "pictures may be at most" }).waitFor();
      assert.match((await page.locator("#banner").textContent()) ?? "", /^Not sent: "big\.png" is /);
      assert.equal(await page.locator("#input").inputValue(), "please look", "the text is kept");
      await page.locator("#attachments .attachment", { hasText: "big.png" }).waitFor();
      assert.equal(await page.locator("#messages .msg.user").count(), 0, "no message was sent");
      await waitFor(async () => (await small.gateway.store.listInbound({ limit: 10 })).length === 0);
    } finally {
      await closePage(page);
      await small.stop();
    }
  });
});
