// Web chat results of long jobs usually arrive while no tab is open: the images must be in the thread's
// history, so reopening the thread shows them (not only "✅ … 1 image").
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { keepInHistory, loadMediaRefs, splitMediaRefs } from "../../src/media/history-refs.ts";
import { MediaStore } from "../../src/media/store.ts";
import { openStore } from "../../src/store/open.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { launchChromium } from "../helpers/browser.ts";
import { tempDir } from "../helpers/gateway.ts";
import { type ComfyGateway, startComfyGateway, Thread } from "./helpers.ts";

interface ApiMessage {
  role: string;
  content: string;
  media?: { mime: string; filename: string; dataBase64: string }[];
}

describe("web chat history keeps ComfyUI result images", () => {
  let comfy: FakeComfyUI;
  let gw: ComfyGateway;
  before(async () => {
    comfy = await FakeComfyUI.start({ steps: 1, stepMs: 5, imagesPerJob: 2 });
    gw = await startComfyGateway({ servers: [comfy.url] });
  });
  after(async () => {
    await gw.stop();
    await comfy.close();
  });

  it("a result delivered while no tab is connected shows its images when the thread is opened", async () => {
    // No live subscription: nobody is watching when the job ends.
    const chat = new Thread(gw.url, "closed-tab");
    await chat.send("/run txt2img a snowy forest");
    const done = await chat.waitFor(/txt2img finished/);
    assert.match(done, /2 images \(job /);
    assert.doesNotMatch(done, /media:/, "the reference lines are not shown as text");

    const res = await fetch(`${gw.url}/api/threads/closed-tab/messages`);
    const { messages } = (await res.json()) as { messages: ApiMessage[] };
    const result = messages.find((m) => /txt2img finished/.test(m.content))!;
    assert.equal(result.media?.length, 2, "both images come with the stored message");
    for (const m of result.media!) {
      assert.equal(m.mime, "image/png");
      assert.match(m.filename, /^ComfyUI_\d{5}_\.png$/);
      const meta = await sharp(Buffer.from(m.dataBase64, "base64")).metadata();
      assert.equal(meta.width, 64);
    }
    assert.equal(messages.filter((m) => /txt2img finished/.test(m.content)).length, 1);

    // A reference written by anyone but clawgate (a user, an agent) is text, never a file read.
    const key = "webchat:default:closed-tab";
    const stored = (await gw.gateway.store.listMessages(key, { limit: 100 })).find((m) =>
      m.content.includes("media:"),
    )!;
    const ref = stored.content.slice(stored.content.indexOf("\n!["));
    await gw.gateway.store.appendMessages([
      { sessionKey: key, role: "assistant", content: `agent says${ref}` },
      { sessionKey: key, role: "user", content: `user says${ref}` },
    ]);
    const again = (
      (await (await fetch(`${gw.url}/api/threads/closed-tab/messages`)).json()) as {
        messages: ApiMessage[];
      }
    ).messages;
    for (const who of ["agent says", "user says"]) {
      const m = again.find((x) => x.content.startsWith(who))!;
      assert.equal(m.media, undefined, who);
      assert.ok(m.content.includes("media:"), "shown as written");
    }

    // Opening the thread in a browser shows the images under the result.
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`${gw.url}/#closed-tab`);
      const bubble = page.locator(".msg[data-msg-id]", { hasText: "txt2img finished" });
      await bubble.waitFor({ timeout: 10_000 });
      await page.waitForFunction(
        () => [...document.querySelectorAll(".msg[data-msg-id] img")].length === 2,
        undefined,
        { timeout: 10_000 },
      );
      assert.equal(await bubble.locator("img").count(), 2);
      assert.match(
        (await bubble.locator("img").first().getAttribute("src")) ?? "",
        /^data:image\/png;base64,/,
      );
      assert.doesNotMatch((await bubble.textContent()) ?? "", /media:/);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });
});

describe("media references in history", () => {
  it("round-trip: stored text carries one line per image, readers get the text back unchanged", async () => {
    const store = await openStore(`${tempDir("clawgate-hm-")}/c.db`);
    const files = new MediaStore(store);
    const png = await sharp({
      create: { width: 2, height: 2, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .png()
      .toBuffer();
    const stored = await keepInHistory(
      files,
      "webchat:default:t1",
      "✅ done",
      [{ mime: "image/png", filename: "a].png", dataBase64: png.toString("base64") }],
      60,
    );
    const { text, refs } = splitMediaRefs(stored);
    assert.equal(text, "✅ done");
    assert.equal(refs.length, 1);
    assert.equal(refs[0]!.filename, "a_.png");
    // Not a reference: a path, a malformed name, or a reference on the first line of a message.
    for (const bad of [
      "x\n![a](media:../../etc/passwd)",
      "x\n![a](media:123-abc.png)",
      `![a](media:${refs[0]!.name})`,
    ])
      assert.deepEqual(splitMediaRefs(bad).refs, []);
    const [loaded] = await loadMediaRefs(files, refs);
    assert.equal(loaded?.dataBase64, png.toString("base64"));
    await store.close();
  });
});
