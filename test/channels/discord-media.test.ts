// Discord attachments against the fake: files, voice messages and stickers become the right Attachments, and the
// adapter's fetchAttachment returns the exact bytes from the signed CDN URL (without the bot token), refuses a
// file over the limit before downloading, and reports an expired URL or a foreign host as unavailable.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { IS_VOICE_MESSAGE } from "../../src/channels/discord/attachments.ts";
import { normalizeMessage } from "../../src/channels/discord/normalize.ts";
import { AttachmentUnavailableError } from "../../src/channels/sdk/download.ts";
import type { ChannelAdapter } from "../../src/channels/types.ts";
import type { Attachment } from "../../src/core/event.ts";
import { MediaTooLargeError } from "../../src/core/too-large.ts";
import { DC_BOT, type DiscordSetup, setupDiscord } from "./discord-helpers.ts";

const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(2500)]);
const OGG = Buffer.concat([Buffer.from("OggS"), randomBytes(1200)]);
const DM = "810000000000000001";

const limits = (maxBytes = 20 * 1024 * 1024) => ({ maxBytes, signal: new AbortController().signal });

function attachmentsOf(msg: Record<string, unknown>): Attachment[] {
  const event = normalizeMessage(msg, { account: "default", botId: DC_BOT.id, requireMention: true });
  assert.ok(event, "the message is read");
  return event.attachments;
}

describe("discord attachments", () => {
  let t: DiscordSetup;
  let adapter: ChannelAdapter;
  before(async () => {
    t = await setupDiscord();
    adapter = t.gw.gateway.adapter("discord", "default")!;
  });
  after(() => t.close());

  test("the adapter says it downloads", () => {
    assert.equal(adapter.capabilities.downloads, true);
  });

  test("an image: fetched from its signed CDN URL with the exact bytes, without the bot token", async () => {
    const file = t.fake.registerAttachment({
      bytes: PNG,
      filename: "cat.png",
      contentType: "image/png",
      channelId: DM,
    });
    const msg = t.fake.userMessage({ content: "what is this?", channelId: DM, attachments: [file] });
    const [image] = attachmentsOf(msg);
    assert.deepEqual(
      { kind: image!.kind, mime: image!.mime, name: image!.name, size: image!.size },
      { kind: "image", mime: "image/png", name: "cat.png", size: PNG.length },
    );
    const got = await adapter.fetchAttachment!(image!, limits());
    assert.ok(got.bytes.equals(PNG), "the exact bytes");
    assert.equal(got.mime, "image/png");
    const download = t.fake.cdnDownloads.at(-1)!;
    assert.deepEqual(
      [download.status, download.authorized],
      [200, false],
      "no Authorization header to the CDN",
    );
  });

  test("a voice message (flag IS_VOICE_MESSAGE) is kind voice", async () => {
    const file = t.fake.registerAttachment({
      bytes: OGG,
      filename: "voice-message.ogg",
      contentType: "audio/ogg",
      channelId: DM,
      voice: true,
    });
    const msg = t.fake.userMessage({
      content: "",
      channelId: DM,
      attachments: [file],
      flags: IS_VOICE_MESSAGE,
    });
    const [voice] = attachmentsOf(msg);
    assert.equal(voice!.kind, "voice");
    assert.equal(voice!.mime, "audio/ogg");
    assert.ok((await adapter.fetchAttachment!(voice!, limits())).bytes.equals(OGG));

    const plain = t.fake.registerAttachment({
      bytes: OGG,
      filename: "song.ogg",
      contentType: "audio/ogg",
      channelId: DM,
    });
    const [audio] = attachmentsOf(t.fake.userMessage({ content: "", channelId: DM, attachments: [plain] }));
    assert.equal(audio!.kind, "audio", "an uploaded audio file is not a voice message");
  });

  test("files without a declared type are told apart by name; a PDF is a file", () => {
    const noType = t.fake.registerAttachment({ bytes: PNG, filename: "shot.JPG", channelId: DM });
    const pdf = t.fake.registerAttachment({
      bytes: Buffer.from("%PDF-1.4\n%%EOF\n"),
      filename: "report.pdf",
      contentType: "application/pdf",
      channelId: DM,
    });
    const kinds = attachmentsOf(
      t.fake.userMessage({ content: "", channelId: DM, attachments: [noType, pdf] }),
    ).map((a) => a.kind);
    assert.deepEqual(kinds, ["image", "file"]);
  });

  test("stickers: kind sticker with the sticker's name as alt; Lottie stickers have no picture", () => {
    const msg = t.fake.userMessage({
      content: "",
      channelId: DM,
      stickerItems: [
        { id: "749054660769218631", name: "Wave", format_type: 1 },
        { id: "749054660769218632", name: "Dance", format_type: 3 },
        { id: "749054660769218633", name: "Party", format_type: 4 },
      ],
    });
    assert.deepEqual(attachmentsOf(msg), [
      {
        kind: "sticker",
        platformId: "749054660769218631",
        mime: "image/png",
        url: "https://cdn.discordapp.com/stickers/749054660769218631.png",
        alt: "Wave",
      },
      { kind: "sticker", platformId: "749054660769218632", mime: "application/json", alt: "Dance" },
      {
        kind: "sticker",
        platformId: "749054660769218633",
        mime: "image/gif",
        url: "https://media.discordapp.net/stickers/749054660769218633.gif",
        alt: "Party",
      },
    ]);
  });

  test("a file over the limit is refused from its declared size: nothing is downloaded", async () => {
    const file = t.fake.registerAttachment({
      bytes: PNG,
      filename: "big.png",
      contentType: "image/png",
      channelId: DM,
    });
    const [image] = attachmentsOf(t.fake.userMessage({ content: "", channelId: DM, attachments: [file] }));
    const downloads = t.fake.cdnDownloads.length;
    await assert.rejects(adapter.fetchAttachment!(image!, limits(1000)), (err: Error) => {
      assert.ok(err instanceof MediaTooLargeError, err.message);
      assert.equal((err as MediaTooLargeError).limit, 1000);
      return true;
    });
    // A size the payload did not declare is caught on the bytes as they arrive.
    await assert.rejects(
      adapter.fetchAttachment!({ ...image!, size: undefined }, limits(1000)),
      MediaTooLargeError,
    );
    assert.equal(t.fake.cdnDownloads.length, downloads + 1, "only the undeclared one was requested");
  });

  test("an expired CDN URL, or a URL on another host: AttachmentUnavailableError", async () => {
    const file = t.fake.registerAttachment({
      bytes: PNG,
      filename: "old.png",
      contentType: "image/png",
      channelId: DM,
    });
    const [image] = attachmentsOf(t.fake.userMessage({ content: "", channelId: DM, attachments: [file] }));
    t.fake.expireAttachment(file);
    await assert.rejects(adapter.fetchAttachment!(image!, limits()), AttachmentUnavailableError);
    assert.equal(t.fake.cdnDownloads.at(-1)!.status, 404);

    const elsewhere = { ...image!, url: "https://example.com/attachments/1/2/old.png" };
    await assert.rejects(adapter.fetchAttachment!(elsewhere, limits()), AttachmentUnavailableError);
  });
});
