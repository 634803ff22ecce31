// WhatsApp attachments: what a webhook carries becomes Attachments, and the adapter's fetchAttachment downloads
// the exact bytes from the fake Graph API (media id → URL → file, bearer token on both, sha256 checked); end to
// end, the agent gets pictures as image parts and a PDF's text, and pictures in its answer arrive as photos.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { AttachmentUnavailableError } from "../../src/channels/sdk/download.ts";
import { normalizeWhatsappPayload } from "../../src/channels/whatsapp/ingress.ts";
import { fetchWhatsappMedia } from "../../src/channels/whatsapp/media.ts";
import type { Attachment, InboundEvent } from "../../src/core/event.ts";
import { MediaTooLargeError } from "../../src/core/too-large.ts";
import { FakeAgent, type FakeAgentRequest, imagesOf, textOf } from "../fakes/openai-agent.ts";
import { FakeTranscriptionServer } from "../fakes/transcription.ts";
import { FakeWhatsapp, hubSignature, waMedia, waMessagePayload, waText } from "../fakes/whatsapp.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";
import { testPng } from "./extension.ts";

const APP_SECRET = "meta-media-secret";
const ALICE = "15551230001";
/** A second user: WhatsApp paces messages to one user (about one every 6 s), and ALICE's queue is long by now. */
const DANA = "15551230004";
let wa: FakeWhatsapp;
let agent: FakeAgent;
let gw: TestGateway;
let whisper: FakeTranscriptionServer;

const limits = (maxBytes = 10 * 1024 * 1024) => ({ maxBytes, signal: AbortSignal.timeout(30_000) });

async function post(payload: unknown) {
  const body = JSON.stringify(payload);
  const res = await fetch(`${gw.url}/whatsapp/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hub-signature-256": hubSignature(APP_SECRET, body) },
    body,
  });
  await res.body?.cancel();
  return res.status;
}

/** Posts one message and returns the event the gateway committed for it. */
async function receive(message: Record<string, unknown>): Promise<InboundEvent> {
  assert.equal(await post(waMessagePayload(wa.phoneNumberId, message)), 200);
  const id = `whatsapp:default:${message.id}`;
  const row = await waitFor(() => gw.gateway.store.getInbound(id), 10_000, `the event ${id}`);
  return JSON.parse(row.payload) as InboundEvent;
}

const adapter = () => gw.gateway.adapter("whatsapp", "default")!;
const source = (token = wa.token) => ({
  apiBase: wa.url,
  apiVersion: wa.version,
  phoneNumberId: wa.phoneNumberId,
  token,
  policy: {},
});

before(async () => {
  wa = await new FakeWhatsapp().start();
  agent = await new FakeAgent().start();
  whisper = await new FakeTranscriptionServer({ apiKey: "sk-whisper", models: ["whisper-1"] }).start();
  gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      agent: { transcription: { url: whisper.url, model: "whisper-1", apiKey: "sk-whisper" } },
      // 52 KB for pictures, so an oversized one is cheap to make.
      media: { inbound: { maxImageMb: 0.05 } },
      channels: {
        whatsapp: {
          accessToken: wa.token,
          verifyToken: "verify",
          appSecret: APP_SECRET,
          phoneNumberId: wa.phoneNumberId,
          allowedUsers: [ALICE, DANA],
          apiBase: wa.url,
        },
      },
    },
  });
});

after(async () => {
  await gw?.stop();
  await agent?.stop();
  await wa?.stop();
  await whisper?.stop();
});

describe("whatsapp inbound media", () => {
  it("declares downloads", () => {
    assert.equal(adapter().capabilities.downloads, true);
    assert.equal(typeof adapter().fetchAttachment, "function");
  });

  it("a photo: the caption is the text, and fetchAttachment returns exactly the bytes the user sent", async () => {
    const photo = await testPng(40, 30);
    const mediaId = wa.addMedia(photo, "image/png");
    const event = await receive(
      waMedia(
        ALICE,
        "image",
        { id: mediaId, mime_type: "image/png", caption: "what is this?" },
        "wamid.PHOTO1",
      ),
    );
    assert.equal(event.text, "what is this?");
    assert.deepEqual(event.attachments, [{ kind: "image", platformId: mediaId, mime: "image/png" }]);
    const got = await adapter().fetchAttachment!(event.attachments[0]!, limits());
    assert.ok(got.bytes.equals(photo), "the exact bytes");
    assert.equal(got.mime, "image/png");
    const seen = wa.mediaRequests.filter((r) => r.path.includes(mediaId) || r.path.includes("attachments"));
    assert.ok(
      seen.length >= 2 && seen.every((r) => r.authorized),
      "lookup and download both carried the token",
    );
  });

  it("a photo without a caption is still taken in, with empty text", async () => {
    const mediaId = wa.addMedia(await testPng(8, 8), "image/png");
    const event = await receive(
      waMedia(ALICE, "image", { id: mediaId, mime_type: "image/png" }, "wamid.PHOTO2"),
    );
    assert.equal(event.text, "");
    assert.equal(event.attachments[0]?.platformId, mediaId);
  });

  it("a document keeps its file name and caption; its bytes come back unchanged", async () => {
    const pdf = Buffer.concat([Buffer.from("%PDF-1.4\n"), randomBytes(2000)]);
    const mediaId = wa.addMedia(pdf, "application/pdf");
    const event = await receive(
      waMedia(
        ALICE,
        "document",
        { id: mediaId, mime_type: "application/pdf", filename: "report.pdf", caption: "summarize" },
        "wamid.DOC1",
      ),
    );
    assert.equal(event.text, "summarize");
    assert.deepEqual(event.attachments, [
      { kind: "file", platformId: mediaId, mime: "application/pdf", name: "report.pdf" },
    ]);
    const got = await adapter().fetchAttachment!(event.attachments[0]!, limits());
    assert.ok(got.bytes.equals(pdf));
    assert.equal(got.name, "report.pdf");
  });

  it("a wrong access token is refused as unavailable, with what to fix", async () => {
    const mediaId = wa.addMedia(Buffer.from("x"), "image/jpeg");
    await assert.rejects(
      fetchWhatsappMedia(source("not-the-token"), { kind: "image", platformId: mediaId }, limits()),
      (err: Error) =>
        err instanceof AttachmentUnavailableError &&
        /OPENCLAW_CONNECTOR_WHATSAPP_ACCESS_TOKEN/.test(err.message),
    );
  });

  it("an expired or unknown media id is unavailable", async () => {
    const mediaId = wa.addMedia(Buffer.from("old"), "image/jpeg", { gone: true });
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "image", platformId: mediaId }, limits()),
      (err: Error) => err instanceof AttachmentUnavailableError && /gone or not readable/.test(err.message),
    );
  });

  it("bytes that do not match Meta's sha256 are refused after one more try", async () => {
    const mediaId = wa.addMedia(Buffer.from("tampered"), "image/jpeg", { sha256: "0".repeat(64) });
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "image", platformId: mediaId }, limits()),
      (err: Error) => err instanceof AttachmentUnavailableError && /sha256/.test(err.message),
    );
    // Counted for this file only: other tests' messages may still be downloading in the background.
    const downloads = wa.mediaRequests.filter(
      (r) => r.path === "/whatsapp_business/attachments/" && r.mid === mediaId,
    );
    assert.equal(downloads.length, 2);
  });

  it("a download URL on a host that is not WhatsApp's is refused, and the token never goes there", async () => {
    const mediaId = wa.addMedia(Buffer.from("x"), "image/jpeg", {
      url: "https://files.example.net/whatsapp_business/attachments/?mid=1",
    });
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "image", platformId: mediaId }, limits()),
      (err: Error) =>
        err instanceof AttachmentUnavailableError && /not on the platform's own hosts/.test(err.message),
    );
  });

  it("a file over the limit is refused from its declared size, before any download", async () => {
    const mediaId = wa.addMedia(randomBytes(3000), "video/mp4");
    const before = wa.mediaRequests.length;
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "video", platformId: mediaId }, limits(1000)),
      (err: Error) => err instanceof MediaTooLargeError && err.limit === 1000,
    );
    assert.deepEqual(
      wa.mediaRequests.slice(before).map((r) => r.path),
      [`/${wa.version}/${mediaId}`],
    );
  });

  it("a file that is larger than it declared is still cut off at the limit", async () => {
    const mediaId = wa.addMedia(randomBytes(5000), "video/mp4", { fileSize: 100 });
    await assert.rejects(
      adapter().fetchAttachment!({ kind: "video", platformId: mediaId }, limits(1000)),
      MediaTooLargeError,
    );
  });
});

describe("whatsapp message kinds", () => {
  const read = (message: Record<string, unknown>): { text: string; attachments: Attachment[] } => {
    const { events, skipped } = normalizeWhatsappPayload(waMessagePayload("123", message), {
      account: "default",
      phoneNumberId: "123",
    });
    assert.deepEqual(skipped, []);
    assert.equal(events.length, 1);
    return { text: events[0]!.text, attachments: events[0]!.attachments };
  };

  it("a voice note is voice, other audio is audio", () => {
    assert.deepEqual(
      read(waMedia(ALICE, "audio", { id: "11", mime_type: "audio/ogg; codecs=opus", voice: true })),
      {
        text: "",
        attachments: [{ kind: "voice", platformId: "11", mime: "audio/ogg; codecs=opus" }],
      },
    );
    assert.deepEqual(read(waMedia(ALICE, "audio", { id: "12", mime_type: "audio/mpeg" })).attachments, [
      { kind: "audio", platformId: "12", mime: "audio/mpeg" },
    ]);
  });

  it("video with its caption; stickers say whether they move", () => {
    assert.deepEqual(read(waMedia(ALICE, "video", { id: "13", mime_type: "video/mp4", caption: "look" })), {
      text: "look",
      attachments: [{ kind: "video", platformId: "13", mime: "video/mp4" }],
    });
    assert.deepEqual(read(waMedia(ALICE, "sticker", { id: "14", mime_type: "image/webp", animated: true })), {
      text: "",
      attachments: [{ kind: "sticker", platformId: "14", mime: "image/webp", alt: "(an animated sticker)" }],
    });
  });

  it("a location carries its coordinates, name and address", () => {
    const loc = {
      latitude: 52.5200066,
      longitude: 13.404954,
      name: "Alexanderplatz",
      address: "10178 Berlin",
    };
    assert.deepEqual(read(waMedia(ALICE, "location", loc)), {
      text: "",
      attachments: [{ kind: "location", location: loc }],
    });
  });

  it("shared contact cards become contacts with a name and the first phone", () => {
    const contacts = [
      {
        name: { formatted_name: "Bob Builder", first_name: "Bob" },
        phones: [{ phone: "+1 555 0100", type: "CELL" }],
      },
      { name: { formatted_name: "Carol" }, phones: [{ wa_id: "15550200" }] },
    ];
    assert.deepEqual(read({ from: ALICE, id: "wamid.C1", type: "contacts", contacts }).attachments, [
      { kind: "contact", contact: { name: "Bob Builder", phone: "+1 555 0100" } },
      { kind: "contact", contact: { name: "Carol", phone: "15550200" } },
    ]);
  });

  it("a media message without an id, or a location out of range, is skipped with a reason", () => {
    for (const m of [
      waMedia(ALICE, "image", { mime_type: "image/png" }),
      waMedia(ALICE, "location", { latitude: 123, longitude: 0 }),
    ]) {
      const { events, skipped } = normalizeWhatsappPayload(waMessagePayload("123", m), {
        account: "default",
        phoneNumberId: "123",
      });
      assert.equal(events.length, 0);
      assert.equal(skipped.length, 1, JSON.stringify(m));
    }
  });
});

describe("whatsapp attachments end to end", () => {
  /** The agent request whose last user message mentions `text`. */
  const requestWith = (text: string) =>
    waitFor(
      () =>
        agent.requests.find((r: FakeAgentRequest) =>
          textOf([...r.body.messages].reverse().find((m) => m.role === "user")?.content ?? "").includes(text),
        ),
      15_000,
      `the agent request with "${text}"`,
    );

  it("a photo reaches the agent as an image part with the exact bytes", async () => {
    const photo = await testPng(24, 18);
    const mediaId = wa.addMedia(photo, "image/png");
    await receive(
      waMedia(ALICE, "image", { id: mediaId, mime_type: "image/png", caption: "e2e photo" }, "wamid.E2E1"),
    );
    const [image] = imagesOf(await requestWith("e2e photo"));
    assert.equal(image?.mime, "image/png");
    assert.ok(image!.bytes.equals(photo), "the exact bytes the user sent");
  });

  it("a PDF document's text reaches the agent", async () => {
    const pdf = makePdf([{ lines: ["Quarterly revenue rose 12 percent.", "Costs fell."] }]);
    const mediaId = wa.addMedia(pdf, "application/pdf");
    await receive(
      waMedia(
        ALICE,
        "document",
        { id: mediaId, mime_type: "application/pdf", filename: "q3.pdf", caption: "e2e pdf" },
        "wamid.E2E2",
      ),
    );
    const req = await requestWith("e2e pdf");
    const text = textOf(req.body.messages.at(-1)!.content);
    assert.match(text, /\[file "q3\.pdf"\]\n[\s\S]*Quarterly revenue rose 12 percent\./);
  });

  it("an oversized photo: the user gets a note, the caption still reaches the agent, nothing is lost", async () => {
    const big = Buffer.concat([await testPng(8, 8), randomBytes(80_000)]);
    const mediaId = wa.addMedia(big, "image/png");
    const downloads = () =>
      wa.mediaRequests.filter((r) => r.path === "/whatsapp_business/attachments/").length;
    const before = downloads();
    await receive(
      waMedia(ALICE, "image", { id: mediaId, mime_type: "image/png", caption: "e2e too big" }, "wamid.E2E3"),
    );
    const req = await requestWith("e2e too big");
    assert.equal(textOf(req.body.messages.at(-1)!.content), "e2e too big");
    assert.equal(imagesOf(req).length, 0);
    await waitFor(
      () =>
        wa
          .texts()
          .find((t) => /^The picture is larger than the limit of 52 KB, so it was not passed on/.test(t)),
      10_000,
      "the note to the user",
    );
    assert.equal(downloads(), before, "refused on the size WhatsApp declared, never downloaded");
    const id = "whatsapp:default:wamid.E2E3";
    await waitFor(async () => (await gw.gateway.store.getInbound(id))?.state === "done", 10_000, "handled");
  });

  it("a voice note's exact bytes reach the transcription server and its text reaches the agent", async () => {
    // An Ogg Opus voice note as WhatsApp records it (the Ogg and OpusHead signatures the sniffer reads).
    const voice = Buffer.concat([
      Buffer.from("OggS\0\x02", "latin1"),
      Buffer.alloc(20),
      Buffer.from("\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0", "latin1"),
      randomBytes(400),
    ]);
    whisper.say(voice, "Please call me back after six.");
    const mediaId = wa.addMedia(voice, "audio/ogg; codecs=opus");
    await receive(
      waMedia(
        ALICE,
        "audio",
        { id: mediaId, mime_type: "audio/ogg; codecs=opus", voice: true },
        "wamid.E2E5",
      ),
    );
    const req = await requestWith("Please call me back after six.");
    assert.match(
      textOf(req.body.messages.at(-1)!.content),
      /\[voice message, transcribed\] Please call me back after six\.$/,
    );
    assert.ok(
      whisper.requests.some((r) => r.file?.bytes.equals(voice)),
      "the exact bytes WhatsApp served went to the transcription server",
    );
  });

  it("a picture in the agent's answer arrives as a native photo", async () => {
    const png = await sharp({ create: { width: 6, height: 6, channels: 4, background: "#0f0" } })
      .png()
      .toBuffer();
    agent.options.reply = () => `Here:\n\n![x](data:image/png;base64,${png.toString("base64")})`;
    try {
      await receive(waText(ALICE, "e2e draw", "wamid.E2E4"));
      const sent = await waitFor(
        () =>
          wa.sent.find(
            (s) =>
              s.body.type === "image" &&
              wa.uploads.some((u) => u.bytes.equals(png) && u.id === (s.body.image as { id: string }).id),
          ),
        15_000,
        "the photo at WhatsApp",
      );
      assert.equal(sent.body.to, ALICE);
    } finally {
      agent.options.reply = undefined;
    }
  });

  it("a PDF data URL in the agent's answer arrives as a document message with the exact bytes", async () => {
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
    agent.options.reply = () => `Done: [report.pdf](data:application/pdf;base64,${pdf.toString("base64")})`;
    try {
      await receive(waText(DANA, "e2e report", "wamid.E2EDOC"));
      const sent = await waitFor(
        () => wa.sent.find((s) => s.body.type === "document"),
        15_000,
        "the document at WhatsApp",
      );
      const doc = sent.body.document as { id: string; filename: string };
      assert.equal(sent.body.to, DANA);
      assert.equal(doc.filename, "report.pdf");
      const upload = wa.uploads.find((u) => u.id === doc.id)!;
      assert.equal(upload.type, "application/pdf");
      assert.ok(upload.bytes.equals(pdf), "the exact bytes were uploaded");
      assert.ok(
        wa.sent.some(
          (s) => s.body.type === "text" && (s.body.text as { body: string }).body === "Done: report.pdf",
        ),
        "the link text stays",
      );
    } finally {
      agent.options.reply = undefined;
    }
  });
});
