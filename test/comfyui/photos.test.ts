// Photos into image templates, end to end: a chat message with a photo and the caption /run img2img → the photo
// is downloaded through the channel, uploaded to ComfyUI's /upload/image, named by the workflow's LoadImage, and
// the result comes back to the chat. Without a photo, with one too large, with one that is no picture, or with a
// template that takes none: a clear answer and nothing queued.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { channelModules } from "../../src/channels/registry.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { rememberImages } from "../../src/targets/comfyui/photos.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { dmChannelModule, type SentRecord } from "../fakes/dm-channel.ts";
import { FakeFileHost } from "../fakes/file-host.ts";
import { waitFor } from "../helpers/gateway.ts";
import { type ComfyGateway, startComfyGateway, Thread } from "./helpers.ts";

const sent: SentRecord[] = [];
channelModules.photochat = dmChannelModule("photochat", sent);
const host = new FakeFileHost();

before(() => host.start());
after(() => host.stop());

/** The channel section: it downloads from the file host and sends pictures. */
const channel = (user: string) => ({
  photochat: { allowFrom: [user], files: { baseUrl: host.url, token: host.token } },
});
/** The platform id the channel returned for a sent message (its position in `sent`). */
const idOf = (m: SentRecord) => String(sent.indexOf(m) + 1);
type Photo = { id: string; size?: number };
const attachments = (photos: Photo[]) =>
  photos.map((p) => ({
    kind: "image",
    mime: "image/jpeg",
    platformId: p.id,
    ...(p.size !== undefined ? { size: p.size } : {}),
  }));

/** 50 KB: the small photo fits, the large one does not. */
const MAX_MB = 50 / 1024;

async function noise(width: number, height: number, format: "jpeg" | "png"): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  // A fixed pseudo-random sequence: noise does not compress, so the sizes are known.
  let x = 12345;
  for (let i = 0; i < raw.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    raw[i] = x >>> 24;
  }
  const img = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === "jpeg" ? img.jpeg({ quality: 90 }).toBuffer() : img.png().toBuffer();
}

describe("ComfyUI: a photo sent with /run fills the template's image input", () => {
  let comfy: FakeComfyUI;
  let gw: ComfyGateway;
  let photo: Buffer;
  let big: Buffer;

  async function say(text: string, o: { photos?: Photo[]; replyTo?: string } = {}) {
    const res = await fetch(`${gw.url}/photochat/in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        senderId: "ann",
        text,
        attachments: attachments(o.photos ?? []),
        ...(o.replyTo ? { replyTo: o.replyTo } : {}),
      }),
    });
    assert.equal(res.status, 200);
  }

  const answer = (re: RegExp) =>
    waitFor(() => sent.find((s) => re.test(s.message.text)), 8000, `a message matching ${re}`);

  before(async () => {
    comfy = await FakeComfyUI.start({ steps: 2, stepMs: 5 });
    gw = await startComfyGateway({
      servers: [comfy.url],
      config: {
        channels: channel("ann"),
        policy: {
          adminUsers: ["photochat:ann"],
          rateLimits: { perUserPerMinute: 1000, perChannelPerMinute: 1000 },
        },
        media: { inbound: { maxImageMb: MAX_MB } },
        security: { allowPrivateFetch: true },
      },
    });
    photo = await noise(40, 30, "jpeg");
    big = await noise(200, 200, "png");
    assert.ok(
      photo.length < 50 * 1024 && big.length > 50 * 1024,
      "test pictures on the right sides of 50 KB",
    );
    host.add("small", photo, "image/jpeg");
    host.add("big", big, "image/png");
    host.add("notes", Buffer.from("not a picture at all\n"), "image/jpeg");
  });
  after(async () => {
    await gw.stop();
    await comfy.close();
  });

  it("the exact bytes reach /upload/image, LoadImage names the upload, the result comes back", async () => {
    await say("/run img2img denoise=0.5", { photos: [{ id: "small", size: photo.length }] });
    const queued = await answer(/Queued img2img/);
    assert.match(queued.message.text, /Photo: 1 \(sent to ComfyUI with the job\)/);
    const promptId = /job ([0-9a-f-]{36})/.exec(queued.message.text)![1]!;

    assert.equal(comfy.uploads.length, 1);
    const up = comfy.uploads[0]!;
    assert.ok(up.bytes.equals(photo), "ComfyUI received the photo's exact bytes");
    assert.equal(up.type, "input");
    assert.equal(up.subfolder, "clawgate");
    assert.equal(up.overwrite, "false");
    assert.match(up.name, /^[0-9a-f-]{36}\.jpg$/);
    const sub = comfy.submissions.find((s) => s.promptId === promptId)!;
    assert.equal(sub.prompt["10"]!.inputs.image, `clawgate/${up.name}`);
    assert.equal(sub.prompt["3"]!.inputs.denoise, 0.5);

    // The fake saves the loaded picture as PNG: the result's pixels are the photo's.
    const result = await answer(/img2img finished/);
    const media = result.message.media!;
    assert.equal(media.length, 1);
    assert.equal(media[0]!.mime, "image/png");
    const got = await sharp(Buffer.from(media[0]!.dataBase64, "base64"))
      .raw()
      .toBuffer({ resolveWithObject: true });
    assert.equal(got.info.width, 40);
    assert.equal(got.info.height, 30);
    assert.ok(got.data.equals(await sharp(photo).raw().toBuffer()), "the result is made from the photo");
  });

  it("from the web chat: a picture sent with /run img2img is uploaded and the result shown", async () => {
    const chat = await Thread.open(gw.url, "photo1");
    const before = comfy.uploads.length;
    await chat.send("/run img2img", "ann", [
      { name: "holiday.jpg", mime: "image/jpeg", dataBase64: photo.toString("base64") },
    ]);
    await chat.waitFor(/Queued img2img .*\n(Seed: \d+\n)?Photo: 1/);
    assert.equal(comfy.uploads.length, before + 1);
    assert.ok(comfy.uploads.at(-1)!.bytes.equals(photo));
    const result = await chat.waitForReply(/img2img finished/);
    const media = result.data.media as { mime: string; dataBase64: string }[];
    const got = await sharp(Buffer.from(media[0]!.dataBase64, "base64")).raw().toBuffer();
    assert.ok(got.equals(await sharp(photo).raw().toBuffer()), "the result is made from the picture");
    chat.close();
  });

  it("/run of an image template without a photo answers with the usage and queues nothing", async () => {
    const prompts = comfy.promptRequests.length;
    const uploads = comfy.uploads.length;
    await say("/run img2img a watercolor");
    const m = await answer(/needs a photo/);
    assert.equal(
      m.message.text,
      "⚠️ Template img2img needs a photo: send a photo with the caption /run img2img, or reply to a photo with /run img2img.",
    );
    await say("/run");
    const usage = await answer(/^Usage: \/run/);
    assert.match(usage.message.text, /\nTemplates: txt2img, img2img \(send with a photo\)$/);
    assert.equal(comfy.promptRequests.length, prompts);
    assert.equal(comfy.uploads.length, uploads);
  });

  it("a photo over media.inbound.maxImageMb is refused with a note, declared size or not", async () => {
    const prompts = comfy.promptRequests.length;
    const uploads = comfy.uploads.length;
    const downloads = host.downloads.length;
    await say("/run img2img", { photos: [{ id: "big", size: big.length }] });
    const declared = await answer(/The photo is \d/);
    assert.equal(
      declared.message.text,
      `⚠️ The photo is ${(big.length / 1024 / 1024).toFixed(1)} MB; photos for ComfyUI may be up to ${MAX_MB} MB here (media.inbound.maxImageMb). Nothing was queued: send a smaller one.`,
    );
    assert.equal(host.downloads.length, downloads, "a photo declared too large is not downloaded");

    // The platform did not say the size: the download stops at the limit.
    await say("/run img2img", { photos: [{ id: "big" }] });
    await answer(/The photo is too large; photos for ComfyUI may be up to/);
    assert.equal(comfy.promptRequests.length, prompts);
    assert.equal(comfy.uploads.length, uploads);
  });

  it("a file that is no picture, or a photo for a template that takes none, is refused", async () => {
    const prompts = comfy.promptRequests.length;
    const uploads = comfy.uploads.length;
    await say("/run img2img", { photos: [{ id: "notes" }] });
    await answer(/not a picture ComfyUI can read \(JPEG, PNG, WebP or GIF\), so nothing was queued/);
    await say("/run txt2img a cat", { photos: [{ id: "small" }] });
    const m = await answer(/takes no image/);
    assert.equal(
      m.message.text,
      '⚠️ Template txt2img takes no image, so nothing was queued. Send /run txt2img without a photo, or pick a template that takes one (/templates marks them "photo").',
    );
    assert.equal(comfy.promptRequests.length, prompts);
    assert.equal(comfy.uploads.length, uploads);
  });

  it("/run img2img as a reply to the bot's result uses the picture the bot sent", async () => {
    const result = sent.find((s) => /img2img finished/.test(s.message.text))!;
    const before = comfy.uploads.length;
    await say("/run img2img denoise=0.3", { replyTo: idOf(result) });
    await waitFor(() => comfy.uploads.length > before || undefined, 8000, "an upload");
    const up = comfy.uploads.at(-1)!;
    assert.ok(up.bytes.equals(Buffer.from(result.message.media![0]!.dataBase64, "base64")));
    assert.match(up.name, /\.png$/);
    // A reply to the bot's result with a template that takes no picture just runs it.
    const q = sent.length;
    await say("/run txt2img steps=2 a cat", { replyTo: idOf(result) });
    await waitFor(() => sent.slice(q).find((s) => /Queued txt2img/.test(s.message.text)), 8000, "queued");
  });

  it("a reply to a user's photo finds it once the photo was remembered when it arrived", async () => {
    const event = {
      channel: "photochat",
      account: "default",
      conversation: { id: "dm-ann", kind: "dm" },
      attachments: [{ kind: "image", mime: "image/jpeg", platformId: "small" }],
    } as InboundEvent;
    // What the gateway's ingest hook does for every message with pictures (see docs/comfyui.md).
    await rememberImages(gw.gateway.store, event, "u-photo-1");
    const before = comfy.uploads.length;
    await say("/run img2img", { replyTo: "u-photo-1" });
    await waitFor(() => comfy.uploads.length > before || undefined, 8000, "an upload");
    assert.ok(comfy.uploads.at(-1)!.bytes.equals(photo));
    // A reply to a message with no picture: the usage.
    await say("/run img2img", { replyTo: idOf(sent.find((m) => /needs a photo/.test(m.message.text))!) });
    await waitFor(
      () => sent.filter((s) => /needs a photo/.test(s.message.text)).length === 2 || undefined,
      8000,
      "the usage again",
    );
  });
});

describe("ComfyUI photos with several servers and with approvals", () => {
  let a: FakeComfyUI;
  let b: FakeComfyUI;
  let gw: ComfyGateway;
  let photo: Buffer;

  async function say(text: string, photos: Photo[] = []) {
    const res = await fetch(`${gw.url}/photochat/in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ senderId: "bob", text, attachments: attachments(photos) }),
    });
    assert.equal(res.status, 200);
  }
  const answer = (re: RegExp) =>
    waitFor(
      () => sent.find((s) => s.to.conversationId === "dm-bob" && re.test(s.message.text)),
      8000,
      `a message matching ${re}`,
    );

  before(async () => {
    a = await FakeComfyUI.start({ steps: 2, stepMs: 5 });
    b = await FakeComfyUI.start({ steps: 2, stepMs: 5 });
    gw = await startComfyGateway({
      servers: [a.url, b.url],
      config: {
        channels: channel("bob"),
        policy: {
          adminUsers: ["photochat:bob"],
          rateLimits: { perUserPerMinute: 1000, perChannelPerMinute: 1000 },
        },
        security: { allowPrivateFetch: true },
      },
    });
    photo = await noise(24, 16, "png");
    host.add("bobs", photo, "image/png");
    const pool = gw.ext.runtime!.pool;
    await waitFor(() => pool.servers.every((s) => s.healthy) || undefined, 8000, "both servers up");
  });
  after(async () => {
    await gw.stop();
    await a.close();
    await b.close();
  });

  it("the photo is uploaded to the server that runs the job, also after a failover", async () => {
    // The first server fails the upload: the job and its photo go to the second, and only there.
    a.failNextUpload = true;
    await say("/run img2img", [{ id: "bobs" }]);
    const queued = await answer(/Queued img2img/);
    assert.match(queued.message.text, /Queued img2img on comfyui-2 /);
    assert.ok(a.requestLog.includes("POST /upload/image"), "the first server was tried");
    assert.equal(a.uploads.length, 0);
    assert.equal(a.submissions.length, 0);
    assert.equal(b.uploads.length, 1);
    assert.ok(b.uploads[0]!.bytes.equals(photo));
    assert.equal(b.submissions[0]!.prompt["10"]!.inputs.image, `clawgate/${b.uploads[0]!.name}`);
    await answer(/img2img finished/);
  });

  it("a photo waits with an approval and is uploaded when the job is approved", async () => {
    await say("/run img2img denoise=0.4 --approval", [{ id: "bobs" }]);
    const asked = await answer(/\[Approval Requested\]/);
    assert.match(asked.message.text, /Request: \/run img2img denoise=0\.4 .*\(with a photo\)/);
    const id = /ID: (apr_[0-9a-z]{12})/.exec(asked.message.text)![1]!;
    const uploads = a.uploads.length + b.uploads.length;
    assert.equal(uploads, 1, "nothing is uploaded before the approval");
    await say(`/approve ${id}`);
    await answer(new RegExp(`\\[Approved\\] ${id}`));
    const all = [...a.uploads, ...b.uploads];
    assert.equal(all.length, 2);
    assert.ok(all.every((u) => u.bytes.equals(photo)));
    const sub = [...a.submissions, ...b.submissions].find((s) => s.prompt["3"]!.inputs.denoise === 0.4)!;
    assert.match(String(sub.prompt["10"]!.inputs.image), /^clawgate\/[0-9a-f-]{36}\.png$/);
  });
});
