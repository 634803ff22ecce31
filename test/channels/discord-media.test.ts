// Discord attachments against the fake: files, voice messages and stickers become the right Attachments, and the
// adapter's fetchAttachment returns the exact bytes from the signed CDN URL (without the bot token), refuses a
// file over the limit before downloading, and reports an expired URL or a foreign host as unavailable.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { IS_VOICE_MESSAGE } from "../../src/channels/discord/attachments.ts";
import { normalizeMessage } from "../../src/channels/discord/normalize.ts";
import { AttachmentUnavailableError } from "../../src/channels/sdk/download.ts";
import type { ChannelAdapter } from "../../src/channels/types.ts";
import type { Attachment } from "../../src/core/event.ts";
import { MediaTooLargeError } from "../../src/core/too-large.ts";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { imagesOf, textOf } from "../fakes/openai-agent.ts";
import { FakeTranscriptionServer } from "../fakes/transcription.ts";
import { waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";
import { DC_BOT, type DiscordSetup, setupDiscord } from "./discord-helpers.ts";

const PNG = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), randomBytes(2500)]);
const OGG = Buffer.concat([Buffer.from("OggS"), randomBytes(1200)]);
/** The start of an Ogg Opus voice message (what Discord clients record), then a payload. */
const VOICE = Buffer.concat([
  Buffer.from("OggS\0\x02", "latin1"),
  Buffer.alloc(20),
  Buffer.from("\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0", "latin1"),
  Buffer.from("discord voice payload"),
]);
const DM = "810000000000000001";

const BIG = Buffer.alloc(11 * 1024 * 1024, 5);
const extension: GatewayExtension = {
  name: "discord-media-test",
  setup(gw) {
    gw.commands.register({
      name: "/bigfile",
      description: "Answer with a file over Discord's upload limit",
      handler: () => ({
        text: "the recording",
        media: [{ dataBase64: BIG.toString("base64"), mime: "audio/wav", filename: "take2.wav" }],
      }),
    });
  },
};

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
    t = await setupDiscord({ extensions: [extension], config: { policy: { adminUsers: ["500"] } } });
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
    const msg = t.fake.userMessage({
      content: "what is this?",
      channelId: DM,
      dispatch: false,
      attachments: [file],
    });
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
      dispatch: false,
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
    const [audio] = attachmentsOf(
      t.fake.userMessage({ content: "", channelId: DM, dispatch: false, attachments: [plain] }),
    );
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
      t.fake.userMessage({ content: "", channelId: DM, dispatch: false, attachments: [noType, pdf] }),
    ).map((a) => a.kind);
    assert.deepEqual(kinds, ["image", "file"]);
  });

  test("outgoing: a file over Discord's upload limit is left out with a note; the text still goes", async () => {
    const dm = "810000000000000009";
    const big = Buffer.alloc(11 * 1024 * 1024, 5);
    await t.gw.gateway.deliver(
      { channel: "discord", account: "default", conversationId: dm },
      {
        text: "the recording",
        media: [{ dataBase64: big.toString("base64"), mime: "audio/wav", filename: "take1.wav" }],
      },
      "dc-media-too-big",
    );
    const msg = await waitFor(() => t.fake.messagesIn(dm)[0], 15_000, "the message");
    assert.equal(
      msg.content,
      "the recording\n\n(take1.wav could not be sent: larger than Discord's upload limit here)",
    );
    assert.equal(msg.files.length, 0);
    assert.equal(t.fake.messagesIn(dm).length, 1);
  });

  test("outgoing, answering a slash command: the same note, through the interaction", async () => {
    const dm = "810000000000000010";
    await waitFor(() => t.fake.commands.get("global")?.some((c) => c.name === "bigfile"), 10_000, "/bigfile");
    const interaction = t.fake.slashCommand("bigfile", { channelId: dm });
    const answer = await waitFor(
      () => t.fake.answersTo(String(interaction.id)).find((m) => /could not be sent/.test(m.content)),
      15_000,
      "the answer",
    );
    assert.equal(
      answer.content,
      "the recording\n\n(take2.wav could not be sent: larger than Discord's upload limit here)",
    );
    assert.equal(answer.files.length, 0);
  });

  test("stickers: kind sticker with the sticker's name as alt; Lottie stickers have no picture", () => {
    const msg = t.fake.userMessage({
      content: "",
      channelId: DM,
      dispatch: false,
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
    const [image] = attachmentsOf(
      t.fake.userMessage({ content: "", channelId: DM, dispatch: false, attachments: [file] }),
    );
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
    const [image] = attachmentsOf(
      t.fake.userMessage({ content: "", channelId: DM, dispatch: false, attachments: [file] }),
    );
    t.fake.expireAttachment(file);
    await assert.rejects(adapter.fetchAttachment!(image!, limits()), AttachmentUnavailableError);
    assert.equal(t.fake.cdnDownloads.at(-1)!.status, 404);

    const elsewhere = { ...image!, url: "https://example.com/attachments/1/2/old.png" };
    await assert.rejects(adapter.fetchAttachment!(elsewhere, limits()), AttachmentUnavailableError);
  });
});

describe("discord attachments end to end: message → worker → agent, and pictures back", () => {
  let t: DiscordSetup;
  let whisper: FakeTranscriptionServer;
  before(async () => {
    whisper = await new FakeTranscriptionServer({ apiKey: "sk-whisper-dc", models: ["whisper-1"] }).start();
    t = await setupDiscord({
      config: {
        agent: {
          stream: false,
          transcription: { url: whisper.url, model: "whisper-1", apiKey: "sk-whisper-dc" },
        },
        media: { inbound: { maxImageMb: 0.05 } },
      },
    });
  });
  after(async () => {
    await t.close();
    await whisper.stop();
  });

  const requestFrom = (text: string) =>
    waitFor(
      () => t.agent.requests.find((r) => textOf(r.body.messages.at(-1)!.content).includes(text)),
      15_000,
      `the agent's request with "${text}"`,
    );

  test("an image reaches the agent as an image_url data URL with the exact bytes", async () => {
    const dm = "820000000000000001";
    const png = await sharp({ create: { width: 6, height: 6, channels: 3, background: "#258" } })
      .png()
      .toBuffer();
    const file = t.fake.registerAttachment({
      bytes: png,
      filename: "blue.png",
      contentType: "image/png",
      channelId: dm,
    });
    t.fake.userMessage({ content: "which colour?", channelId: dm, attachments: [file] });
    const [image] = imagesOf(await requestFrom("which colour?"));
    assert.equal(image?.mime, "image/png");
    assert.ok(image!.bytes.equals(png), "the exact bytes");
  });

  test("a PDF's text reaches the agent", async () => {
    const dm = "820000000000000002";
    const pdf = makePdf([{ lines: ["Launch moved to the fourth of May"] }]);
    const file = t.fake.registerAttachment({
      bytes: pdf,
      filename: "plan.pdf",
      contentType: "application/pdf",
      channelId: dm,
    });
    t.fake.userMessage({ content: "when is the launch?", channelId: dm, attachments: [file] });
    const text = textOf((await requestFrom("when is the launch?")).body.messages.at(-1)!.content);
    assert.match(text, /\[file "plan\.pdf"\]\n[\s\S]*Launch moved to the fourth of May/);
  });

  test("an image over the limit: the user gets a note, the text still reaches the agent, nothing is downloaded", async () => {
    const dm = "820000000000000003";
    const big = Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), Buffer.alloc(80_000)]);
    const file = t.fake.registerAttachment({
      bytes: big,
      filename: "huge.png",
      contentType: "image/png",
      channelId: dm,
    });
    t.fake.userMessage({ content: "too big?", channelId: dm, attachments: [file] });
    assert.equal(textOf((await requestFrom("too big?")).body.messages.at(-1)!.content), "too big?");
    const note = await waitFor(
      () => t.fake.messagesIn(dm).find((m) => /not passed on/.test(m.content)),
      15_000,
    );
    assert.match(
      note.content,
      /^Picture "huge\.png" is 79 KB; the limit here is 52 KB, so it was not passed on/,
    );
    await waitFor(
      () => t.fake.messagesIn(dm).find((m) => m.content === "echo: too big?"),
      15_000,
      "the answer",
    );
    assert.ok(!t.fake.cdnDownloads.some((d) => d.path.endsWith("/huge.png")), "never downloaded");
  });

  test("a voice message: its exact bytes reach the transcription server, its transcript the agent", async () => {
    const dm = "820000000000000005";
    whisper.say(VOICE, "Is the build green?");
    const file = t.fake.registerAttachment({
      bytes: VOICE,
      filename: "voice-message.ogg",
      contentType: "audio/ogg",
      channelId: dm,
      voice: true,
    });
    t.fake.userMessage({ content: "", channelId: dm, attachments: [file], flags: IS_VOICE_MESSAGE });
    const req = await requestFrom("Is the build green?");
    assert.equal(
      textOf(req.body.messages.at(-1)!.content),
      "[voice message, transcribed] Is the build green?",
    );
    const heard = whisper.requests.at(-1)!;
    assert.ok(heard.file?.bytes.equals(VOICE), "the exact bytes of the voice message");
  });

  test("an answer with a data-URL picture arrives as an uploaded file with those bytes", async () => {
    const dm = "820000000000000004";
    const png = await sharp({ create: { width: 4, height: 4, channels: 4, background: "#0f0" } })
      .png()
      .toBuffer();
    t.agent.options.reply = () => `Done.\n\n![green](data:image/png;base64,${png.toString("base64")})`;
    try {
      t.fake.userMessage({ content: "draw a green square", channelId: dm });
      const sent = await waitFor(
        () => t.fake.messagesIn(dm).find((m) => m.files.length > 0),
        15_000,
        "the picture",
      );
      const [file] = sent.files;
      assert.equal(file!.type, "image/png");
      assert.ok(file!.data.equals(png), "the exact bytes");
    } finally {
      t.agent.options.reply = undefined;
    }
  });
});
