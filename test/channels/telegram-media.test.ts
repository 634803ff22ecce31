// Telegram attachments against the fake Bot API: each kind becomes the right Attachment, and the adapter's
// fetchAttachment returns a file's exact bytes through getFile and the file URL, refuses what the Bot API cannot
// serve (over 20 MB) before downloading, and says so when the file is gone or not this bot's.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { AttachmentUnavailableError } from "../../src/channels/sdk/download.ts";
import { TelegramClient } from "../../src/channels/telegram/client.ts";
import { fetchTelegramFile } from "../../src/channels/telegram/files.ts";
import { normalizeUpdate } from "../../src/channels/telegram/normalize.ts";
import type { ChannelAdapter, MediaItem } from "../../src/channels/types.ts";
import type { Attachment } from "../../src/core/event.ts";
import { MediaTooLargeError } from "../../src/core/too-large.ts";
import { imagesOf, textOf } from "../fakes/openai-agent.ts";
import { FakeTranscriptionServer } from "../fakes/transcription.ts";
import { queuesDrained, waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";
import { BOT, OTHER_BOT, setupTelegram, type TelegramSetup } from "./telegram-helpers.ts";

const MB = 1024 * 1024;
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]),
  randomBytes(3000),
  Buffer.from([0xff, 0xd9]),
]);
const OGG = Buffer.concat([Buffer.from("OggS"), randomBytes(1500)]);
/** The start of an Ogg Opus voice note (what Telegram clients record), then a payload. */
const VOICE = Buffer.concat([
  Buffer.from("OggS\0\x02", "latin1"),
  Buffer.alloc(20),
  Buffer.from("\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0", "latin1"),
  Buffer.from("telegram voice payload"),
]);
const PDF = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");

const limits = (maxBytes = 20 * MB) => ({ maxBytes, signal: new AbortController().signal });

/** The attachments an update becomes, read the way the adapter reads it. */
function attachmentsOf(update: Record<string, unknown>): Attachment[] {
  const r = normalizeUpdate(update, {
    account: "default",
    bot: { id: BOT.id, username: BOT.username },
    requireMention: true,
  });
  assert.equal(r.kind, "event", `the update is read: ${JSON.stringify(r)}`);
  return r.kind === "event" ? r.event.attachments : [];
}

describe("telegram attachments", () => {
  let t: TelegramSetup;
  let adapter: ChannelAdapter;
  before(async () => {
    t = await setupTelegram({ config: { security: { allowPrivateFetch: false } } });
    adapter = t.gw.gateway.adapter("telegram", "default")!;
  });
  after(() => t.close());

  test("the adapter says it downloads", () => {
    assert.equal(adapter.capabilities.downloads, true);
    assert.equal(typeof adapter.fetchAttachment, "function");
  });

  test("a photo: the largest size, fetched with its exact bytes", async () => {
    const update = t.fake.userMessage(BOT.token, {
      caption: "what is this?",
      media: t.fake.photoOf(BOT.token, JPEG),
      userId: 42,
      push: false,
      chatId: 5101,
    });
    const [photo, ...rest] = attachmentsOf(update);
    assert.equal(rest.length, 0);
    assert.equal(photo!.kind, "image");
    assert.equal(photo!.mime, "image/jpeg");
    assert.equal(photo!.size, JPEG.length);
    const got = await adapter.fetchAttachment!(photo!, limits());
    assert.ok(got.bytes.equals(JPEG), "the exact bytes of the full-size photo, not the thumbnail");
    assert.equal(got.mime, "image/jpeg", "the declared type, not Telegram's application/octet-stream");
    const download = t.fake.downloads.at(-1)!;
    assert.equal(download.status, 200);
    assert.match(download.path, /^photos\/file_\d+\.jpg$/);
  });

  test("the caption is the message's text", () => {
    const r = normalizeUpdate(
      t.fake.userMessage(BOT.token, {
        caption: "look",
        media: t.fake.photoOf(BOT.token, JPEG),
        userId: 42,
        push: false,
      }),
      { account: "default", bot: { id: BOT.id, username: BOT.username }, requireMention: true },
    );
    assert.equal(r.kind === "event" && r.event.text, "look");
  });

  test("a voice note is kind voice, audio/ogg, with its bytes", async () => {
    const update = t.fake.userMessage(BOT.token, {
      media: t.fake.fileOf(BOT.token, "voice", OGG),
      userId: 42,
      push: false,
      chatId: 5102,
    });
    const [voice] = attachmentsOf(update);
    assert.deepEqual(
      { kind: voice!.kind, mime: voice!.mime, size: voice!.size },
      { kind: "voice", mime: "audio/ogg", size: OGG.length },
    );
    const got = await adapter.fetchAttachment!(voice!, limits());
    assert.ok(got.bytes.equals(OGG));
    assert.equal(got.mime, "audio/ogg");
  });

  test("a document keeps its name and type", async () => {
    const update = t.fake.userMessage(BOT.token, {
      media: t.fake.fileOf(BOT.token, "document", PDF, { mime: "application/pdf", fileName: "report.pdf" }),
      userId: 42,
      push: false,
      chatId: 5103,
    });
    const [doc] = attachmentsOf(update);
    assert.deepEqual(
      { kind: doc!.kind, mime: doc!.mime, name: doc!.name },
      { kind: "file", mime: "application/pdf", name: "report.pdf" },
    );
    const got = await adapter.fetchAttachment!(doc!, limits());
    assert.ok(got.bytes.equals(PDF));
    assert.equal(got.name, "report.pdf");
  });

  test("a 25 MB file is refused from its declared size: no getFile, no download", async () => {
    const big = Buffer.alloc(25 * MB, 1);
    const update = t.fake.userMessage(BOT.token, {
      media: t.fake.fileOf(BOT.token, "document", big, { mime: "video/mp4", fileName: "film.mp4" }),
      userId: 42,
      push: false,
    });
    const [doc] = attachmentsOf(update);
    const path = t.fake.file(BOT.token, doc!.platformId!)!.file_path;
    const getFiles = () => t.fake.callsTo("getFile").filter((c) => c.params.file_id === doc!.platformId);
    await assert.rejects(adapter.fetchAttachment!(doc!, limits(50 * MB)), (err: Error) => {
      assert.ok(err instanceof MediaTooLargeError, err.message);
      assert.match(err.message, /25\.0 MB.*Telegram lets bots download files of up to 20 MB/);
      return true;
    });
    assert.equal(getFiles().length, 0, "getFile was not asked");

    // Without a declared size, getFile's "file is too big" says the same.
    await assert.rejects(
      adapter.fetchAttachment!({ ...doc!, size: undefined }, limits(50 * MB)),
      (err: Error) => {
        assert.ok(err instanceof MediaTooLargeError, err.message);
        assert.match(err.message, /up to 20 MB/);
        return true;
      },
    );
    assert.equal(getFiles().length, 1, "getFile was asked once, and refused");
    assert.ok(!t.fake.downloads.some((d) => d.path === path), "nothing was downloaded");
  });

  test("a file over the operator's limit (below 20 MB) is refused with that limit", async () => {
    const update = t.fake.userMessage(BOT.token, {
      media: t.fake.photoOf(BOT.token, JPEG),
      userId: 42,
      push: false,
    });
    const [photo] = attachmentsOf(update);
    const downloads = t.fake.downloads.length;
    await assert.rejects(adapter.fetchAttachment!(photo!, limits(1000)), (err: Error) => {
      assert.ok(err instanceof MediaTooLargeError, err.message);
      assert.equal((err as MediaTooLargeError).limit, 1000);
      return true;
    });
    assert.equal(t.fake.downloads.length, downloads);
  });

  test("another bot's file, or one that is gone: AttachmentUnavailableError", async () => {
    const foreign = t.fake.fileOf(OTHER_BOT.token, "document", PDF, { fileName: "x.pdf" });
    const [doc] = attachmentsOf(t.fake.userMessage(BOT.token, { media: foreign, userId: 42, push: false }));
    await assert.rejects(adapter.fetchAttachment!(doc!, limits()), AttachmentUnavailableError);

    const update = t.fake.userMessage(BOT.token, {
      media: t.fake.photoOf(BOT.token, JPEG),
      userId: 42,
      push: false,
    });
    const [photo] = attachmentsOf(update);
    t.fake.forgetFile(BOT.token, photo!.platformId!);
    await assert.rejects(adapter.fetchAttachment!(photo!, limits()), AttachmentUnavailableError);
  });

  test("a file URL with the wrong token is a 404: unavailable, and the token is not in the message", async () => {
    const update = t.fake.userMessage(BOT.token, {
      media: t.fake.photoOf(BOT.token, JPEG),
      userId: 42,
      push: false,
    });
    const [photo] = attachmentsOf(update);
    const wrong = "999999:WrongTokenWrongToken";
    const client = new TelegramClient({ token: BOT.token, apiBase: t.fake.url });
    await assert.rejects(
      fetchTelegramFile({ client, token: wrong, apiBase: t.fake.url, policy: {} }, photo!, limits()),
      (err: Error) => {
        assert.ok(err instanceof AttachmentUnavailableError, err.message);
        assert.ok(!err.message.includes(wrong), `no token in: ${err.message}`);
        return true;
      },
    );
    assert.equal(t.fake.downloads.at(-1)!.status, 404);

    // A token Telegram does not know is refused by getFile itself (401).
    const stranger = new TelegramClient({ token: wrong, apiBase: t.fake.url });
    await assert.rejects(
      fetchTelegramFile(
        { client: stranger, token: wrong, apiBase: t.fake.url, policy: {} },
        photo!,
        limits(),
      ),
      (err: Error) => {
        assert.ok(err instanceof AttachmentUnavailableError, err.message);
        assert.match(err.message, /refused the bot token/);
        return true;
      },
    );
  });

  const deliver = (chatId: number, message: { text: string; media: MediaItem[] }, key: string) =>
    t.gw.gateway.deliver(
      { channel: "telegram", account: "default", conversationId: String(chatId) },
      message,
      key,
    );
  const png = (size: number) =>
    Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(Math.max(0, size - 8))]);

  test("outgoing: a picture over 10 MB goes as a document, with its exact bytes", async () => {
    const big = png(11 * MB);
    await deliver(
      5301,
      { text: "", media: [{ dataBase64: big.toString("base64"), mime: "image/png", filename: "big.png" }] },
      "tg-media-big-photo",
    );
    const sent = await waitFor(
      () => t.fake.messages(BOT.token, 5301).find((m) => m.photo),
      15_000,
      "the file",
    );
    assert.equal(sent.method, "sendDocument");
    assert.ok(sent.photo!.data.equals(big));
  });

  test("outgoing: a caption over 1024 characters goes as its own message before the picture", async () => {
    const caption = `A long caption: ${"word ".repeat(300)}`.trim();
    const small = png(200);
    await deliver(
      5302,
      {
        text: "",
        media: [{ dataBase64: small.toString("base64"), mime: "image/png", filename: "a.png", caption }],
      },
      "tg-media-long-caption",
    );
    await waitFor(() => t.fake.messages(BOT.token, 5302).length === 2, 15_000, "two messages");
    const [text, photo] = t.fake.messages(BOT.token, 5302);
    assert.equal(text!.text, caption);
    assert.equal(photo!.method, "sendPhoto");
    assert.equal(photo!.caption, "");
    assert.ok(photo!.photo!.data.equals(small));
  });

  test("outgoing: a file over 50 MB is not uploaded; a note says why", async () => {
    const huge = Buffer.alloc(51 * MB, 3);
    await deliver(
      5303,
      {
        text: "the export",
        media: [{ dataBase64: huge.toString("base64"), mime: "application/zip", filename: "export.zip" }],
      },
      "tg-media-huge-file",
    );
    await waitFor(() => t.fake.messages(BOT.token, 5303).length === 2, 15_000, "two messages");
    assert.deepEqual(
      t.fake.messages(BOT.token, 5303).map((m) => [m.text, m.method]),
      [
        ["the export", "sendMessage"],
        [
          "(export.zip could not be sent: it is 51 MB, and Telegram bots can send files of up to 50 MB)",
          "sendMessage",
        ],
      ],
    );
  });

  test("stickers, locations, venues and contacts become the right attachments", () => {
    const at = (media: Record<string, unknown>) =>
      attachmentsOf(t.fake.userMessage(BOT.token, { media, userId: 42, push: false }));
    const sticker = {
      file_id: "CAACAgIAAxk",
      file_unique_id: "AgAD",
      width: 512,
      height: 512,
      type: "regular",
    };
    assert.deepEqual(
      at({ sticker: { ...sticker, emoji: "😀", is_animated: false, is_video: false, file_size: 9000 } }),
      [{ kind: "sticker", platformId: "CAACAgIAAxk", mime: "image/webp", size: 9000, alt: "😀" }],
    );
    assert.equal(
      at({ sticker: { ...sticker, emoji: "🎉", is_animated: true } })[0]!.mime,
      "application/x-tgsticker",
    );
    assert.equal(at({ sticker: { ...sticker, is_video: true } })[0]!.mime, "video/webm");
    assert.deepEqual(at({ location: { latitude: 52.52, longitude: 13.405 } }), [
      { kind: "location", location: { latitude: 52.52, longitude: 13.405 } },
    ]);
    const place = { latitude: 48.8584, longitude: 2.2945 };
    assert.deepEqual(
      at({
        location: place,
        venue: { location: place, title: "Eiffel Tower", address: "Champ de Mars, Paris" },
      }),
      [{ kind: "location", location: { ...place, name: "Eiffel Tower", address: "Champ de Mars, Paris" } }],
      "one place, not a location and a venue",
    );
    assert.deepEqual(
      at({ contact: { phone_number: "+4930123456", first_name: "Ada", last_name: "Lovelace" } }),
      [{ kind: "contact", contact: { name: "Ada Lovelace", phone: "+4930123456" } }],
    );
  });

  test("audio, video, video notes and animations", () => {
    const at = (media: Record<string, unknown>) =>
      attachmentsOf(t.fake.userMessage(BOT.token, { media, userId: 42, push: false }));
    const f = { file_unique_id: "u", file_size: 10 };
    assert.deepEqual(
      at({ audio: { ...f, file_id: "a1", mime_type: "audio/mpeg", file_name: "song.mp3", duration: 1 } }),
      [{ kind: "audio", platformId: "a1", mime: "audio/mpeg", name: "song.mp3", size: 10 }],
    );
    assert.equal(
      at({ video: { ...f, file_id: "v1", mime_type: "video/mp4", duration: 1 } })[0]!.kind,
      "video",
    );
    assert.deepEqual(at({ video_note: { ...f, file_id: "n1", length: 240, duration: 1 } }), [
      { kind: "video", platformId: "n1", mime: "video/mp4", size: 10 },
    ]);
    const gif = { ...f, file_id: "g1", mime_type: "video/mp4", file_name: "cat.gif.mp4" };
    assert.deepEqual(
      at({ animation: gif, document: gif }),
      [{ kind: "video", platformId: "g1", mime: "video/mp4", name: "cat.gif.mp4", size: 10 }],
      "an animation once, not also as a document",
    );
  });
});

describe("telegram attachments end to end: update → worker → agent, and pictures back", () => {
  let t: TelegramSetup;
  let whisper: FakeTranscriptionServer;
  before(async () => {
    whisper = await new FakeTranscriptionServer({ apiKey: "sk-whisper-tg", models: ["whisper-1"] }).start();
    t = await setupTelegram({
      config: {
        agent: {
          stream: false,
          transcription: { url: whisper.url, model: "whisper-1", apiKey: "sk-whisper-tg" },
        },
        // Files up to 50 MB pass the gateway's own limit, so Telegram's 20 MB is the one that applies.
        media: { inbound: { maxFileMb: 50 } },
      },
    });
  });
  after(async () => {
    await t.close();
    await whisper.stop();
  });

  const settled = () => queuesDrained(t.gw.gateway.store, 15_000);
  const requestFrom = (text: string) =>
    waitFor(
      () => t.agent.requests.find((r) => textOf(r.body.messages.at(-1)!.content).includes(text)),
      15_000,
      `the agent's request with "${text}"`,
    );

  test("a photo reaches the agent as an image_url data URL with the exact bytes, the caption as text", async () => {
    const photo = await sharp({ create: { width: 16, height: 12, channels: 3, background: "#3a7" } })
      .jpeg()
      .toBuffer();
    t.fake.userMessage(BOT.token, {
      caption: "what colour?",
      media: t.fake.photoOf(BOT.token, photo),
      userId: 42,
      chatId: 5201,
    });
    const req = await requestFrom("what colour?");
    const [image, ...more] = imagesOf(req);
    assert.equal(more.length, 0);
    assert.equal(image?.mime, "image/jpeg");
    assert.ok(image!.bytes.equals(photo), "the exact bytes of the photo");
  });

  test("a PDF document: its text reaches the agent", async () => {
    const pdf = makePdf([{ lines: ["Quarterly revenue grew by 12 percent"] }]);
    t.fake.userMessage(BOT.token, {
      caption: "summarise the report",
      media: t.fake.fileOf(BOT.token, "document", pdf, { mime: "application/pdf", fileName: "q3.pdf" }),
      userId: 42,
      chatId: 5202,
    });
    const text = textOf((await requestFrom("summarise the report")).body.messages.at(-1)!.content);
    assert.match(text, /\[file "q3\.pdf"\]\n[\s\S]*Quarterly revenue grew by 12 percent/);
  });

  test("a 25 MB document: the user is told Telegram's limit, the caption still reaches the agent", async () => {
    const downloads = t.fake.downloads.length;
    t.fake.userMessage(BOT.token, {
      caption: "here is the raw footage",
      media: t.fake.fileOf(BOT.token, "document", Buffer.alloc(25 * 1024 * 1024, 7), {
        mime: "application/zip",
        fileName: "footage.zip",
      }),
      userId: 42,
      chatId: 5203,
    });
    const req = await requestFrom("here is the raw footage");
    assert.equal(textOf(req.body.messages.at(-1)!.content), "here is the raw footage");
    await settled();
    const texts = t.fake.messages(BOT.token, 5203).map((m) => m.text);
    assert.ok(
      texts.some((x) =>
        /^File "footage\.zip" is 25 MB; the limit here is 20 MB, so it was not passed on/.test(x),
      ),
      `a note with Telegram's limit: ${JSON.stringify(texts)}`,
    );
    assert.ok(texts.includes("echo: here is the raw footage"), "and the answer");
    assert.equal(t.fake.downloads.length, downloads, "nothing was downloaded");
  });

  test("a voice note: its exact bytes reach the transcription server, its transcript the agent", async () => {
    whisper.say(VOICE, "Remind me to call the dentist.");
    t.fake.userMessage(BOT.token, {
      media: t.fake.fileOf(BOT.token, "voice", VOICE),
      userId: 42,
      chatId: 5204,
    });
    const req = await requestFrom("Remind me to call the dentist.");
    assert.equal(
      textOf(req.body.messages.at(-1)!.content),
      "[voice message, transcribed] Remind me to call the dentist.",
    );
    const heard = whisper.requests.at(-1)!;
    assert.equal(heard.file?.type, "audio/ogg");
    assert.ok(heard.file?.bytes.equals(VOICE), "the exact bytes of the voice note");
  });

  test("an answer with a data-URL picture arrives as a native photo with those bytes", async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 4, background: "#f00" } })
      .png()
      .toBuffer();
    t.agent.options.reply = () => `Here:\n\n![red](data:image/png;base64,${png.toString("base64")})`;
    try {
      t.fake.userMessage(BOT.token, { text: "draw a red square", userId: 42, chatId: 5205 });
      const sent = await waitFor(
        () => t.fake.messages(BOT.token, 5205).find((m) => m.photo),
        15_000,
        "the photo",
      );
      assert.equal(sent.method, "sendPhoto");
      assert.equal(sent.photo!.mime, "image/png");
      assert.ok(sent.photo!.data.equals(png), "the exact bytes");
    } finally {
      t.agent.options.reply = undefined;
    }
  });

  test("an answer with a PDF data URL arrives as a document with those bytes and its name", async () => {
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
    t.agent.options.reply = () => `Done: [report.pdf](data:application/pdf;base64,${pdf.toString("base64")})`;
    try {
      t.fake.userMessage(BOT.token, { text: "write the report", userId: 42, chatId: 5206 });
      const sent = await waitFor(
        () => t.fake.messages(BOT.token, 5206).find((m) => m.photo),
        15_000,
        "the document",
      );
      assert.equal(sent.method, "sendDocument");
      assert.equal(sent.photo!.mime, "application/pdf");
      assert.equal(sent.photo!.filename, "report.pdf");
      assert.ok(sent.photo!.data.equals(pdf), "the exact bytes");
      const texts = t.fake.messages(BOT.token, 5206).map((m) => m.text ?? m.caption ?? "");
      assert.ok(texts.includes("Done: report.pdf"), `the link text stays: ${JSON.stringify(texts)}`);
    } finally {
      t.agent.options.reply = undefined;
    }
  });
});
