// ComfyUI photos through Telegram: a photo with the caption /run img2img is fetched with getFile from the fake
// Bot API, its exact bytes reach ComfyUI's /upload/image, and the result comes back as a Telegram photo; a
// reply to that photo with /run img2img uses the picture the bot sent.
import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { comfyuiExtension } from "../../src/targets/comfyui/extension.ts";
import { BOT, setupTelegram, type TelegramSetup } from "../channels/telegram-helpers.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { tempDir, waitFor } from "../helpers/gateway.ts";
import { EXAMPLES } from "./helpers.ts";

/** Both users are on the bot's allowlist (telegram-helpers.ts); a private chat's id is the user's. */
const CHAT = 42;
const OTHER_CHAT = 43;

describe("ComfyUI photos through Telegram", () => {
  let comfy: FakeComfyUI;
  let t: TelegramSetup;
  let photo: Buffer;

  // Telegram paces messages to one chat, so each test talks in its own chat and waits generously.
  const botSaid = (re: RegExp, chat = CHAT) =>
    waitFor(
      () => t.fake.messages(BOT.token, chat).find((m) => re.test(m.text) || re.test(m.caption ?? "")),
      20_000,
      `a Telegram message matching ${re}`,
    );

  before(async () => {
    comfy = await FakeComfyUI.start({ steps: 2, stepMs: 5 });
    const templatesDir = join(tempDir("clawgate-tg-comfy-"), "templates");
    cpSync(EXAMPLES, templatesDir, { recursive: true });
    t = await setupTelegram({
      extensions: [comfyuiExtension()],
      config: {
        comfyui: { servers: [comfy.url], templatesDir, healthIntervalMs: 200, reconcileIntervalMs: 300 },
        security: { allowPrivateFetch: false },
      },
    });
    photo = await sharp({
      create: { width: 48, height: 32, channels: 3, background: { r: 9, g: 99, b: 199 } },
    })
      .jpeg()
      .toBuffer();
  });
  after(async () => {
    await t.close();
    await comfy.close();
  });

  it("a photo captioned /run img2img: the exact bytes are uploaded and the result is sent as a photo", async () => {
    t.fake.userMessage(BOT.token, {
      caption: "/run img2img denoise=0.5",
      media: t.fake.photoOf(BOT.token, photo),
      userId: CHAT,
    });
    await botSaid(/Queued img2img/);
    assert.equal(comfy.uploads.length, 1);
    assert.ok(comfy.uploads[0]!.bytes.equals(photo), "the full-size photo's bytes, not the thumbnail");
    const sub = comfy.submissions.at(-1)!;
    assert.equal(sub.prompt["10"]!.inputs.image, `clawgate/${comfy.uploads[0]!.name}`);

    const result = await botSaid(/img2img finished/);
    assert.equal(result.method, "sendPhoto");
    const meta = await sharp(result.photo!.data).metadata();
    assert.equal(meta.width, 48);
    assert.equal(meta.height, 32);

    // A reply to that photo runs the template on the picture the bot sent.
    const update = t.fake.userMessage(BOT.token, { text: "/run img2img", userId: CHAT, push: false });
    const message = update.message as Record<string, unknown>;
    message.reply_to_message = {
      message_id: result.message_id,
      from: { id: BOT.id, is_bot: true, first_name: "Bot", username: BOT.username },
      chat: { id: CHAT, type: "private" },
      date: 0,
      photo: [],
    };
    t.fake.pushUpdate(BOT.token, { message });
    await waitFor(
      () =>
        t.fake.messages(BOT.token, CHAT).filter((m) => /Queued img2img/.test(m.text)).length === 2 ||
        undefined,
      20_000,
      "the second job queued",
    );
    assert.equal(comfy.uploads.length, 2);
    assert.ok(comfy.uploads[1]!.bytes.equals(result.photo!.data), "the picture the bot sent");
  });

  it("a reply to the user's own earlier photo uses that photo (remembered when it arrived)", async () => {
    const own = await sharp({ create: { width: 20, height: 10, channels: 3, background: "#0a0" } })
      .png()
      .toBuffer();
    // The photo arrives on its own first: no command, so it goes to the conversation as usual.
    const photoUpdate = t.fake.userMessage(BOT.token, {
      media: t.fake.photoOf(BOT.token, own),
      userId: CHAT,
    });
    const photoMessage = photoUpdate.message as { message_id: number };
    await waitFor(async () => (await t.gw.gateway.store.inboxStats()).pending === 0 || undefined);
    const uploads = comfy.uploads.length;
    const update = t.fake.userMessage(BOT.token, { text: "/run img2img", userId: CHAT, push: false });
    const message = update.message as Record<string, unknown>;
    message.reply_to_message = {
      message_id: photoMessage.message_id,
      from: { id: CHAT, is_bot: false, first_name: "U" },
      chat: { id: CHAT, type: "private" },
      date: 0,
    };
    t.fake.pushUpdate(BOT.token, { message });
    await waitFor(
      () => comfy.uploads.length > uploads || undefined,
      20_000,
      "the upload of the user's photo",
    );
    assert.ok(comfy.uploads.at(-1)!.bytes.equals(own), "the exact bytes of the photo replied to");
    // The job runs to its end here, so the next test counts only its own prompts.
    const finished = () =>
      t.fake.messages(BOT.token, CHAT).filter((m) => /img2img finished/.test(m.caption ?? m.text)).length;
    await waitFor(() => finished() === 3 || undefined, 20_000, "the third img2img result");
  });

  it("/run img2img without a photo gets the usage and queues nothing", async () => {
    const prompts = comfy.promptRequests.length;
    t.fake.userMessage(BOT.token, { text: "/run img2img", userId: OTHER_CHAT });
    const m = await botSaid(/needs a photo/, OTHER_CHAT);
    assert.match(m.text, /Template img2img needs a photo: send a photo with the caption \/run img2img/);
    assert.equal(comfy.promptRequests.length, prompts);
  });
});
