// LINE attachments: image, video, audio, file, location and sticker messages reach the inbox as attachments, and
// the adapter's fetchAttachment gets the exact bytes from the data API (api-data.line.me, here the fake) with the
// channel access token; unknown ids and wrong tokens are refused with a message, a video or voice message LINE
// is still preparing is a retryable error, files over the limit are refused, and content on an app's own server
// goes through the URL guard without the token.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { normalizeLineEvent } from "../../src/channels/line/ingress.ts";
import type { ChannelAdapter } from "../../src/channels/types.ts";
import type { Attachment, InboundEvent } from "../../src/core/event.ts";
import { FakeLine, lineId, lineMessageEvent, lineWebhookSignature } from "../fakes/line.ts";
import { FakeAgent, imagesOf, textOf } from "../fakes/openai-agent.ts";
import { closeServer } from "../fakes/shared.ts";
import { FakeTranscriptionServer } from "../fakes/transcription.ts";
import { queuesDrained, startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";
import { channelTestExtension, testCommandPolicy, testPng } from "./extension.ts";

const SECRET = "line-channel-secret";
const PUBLIC = "https://media.example.test";
const ALICE = lineId("U", "alice");
const TEAM = lineId("C", "team");
/** One user per end-to-end test, so each test reads only its own replies. */
const E2E = ["photo", "pdf", "big", "voice", "place", "sticker", "answer", "doc"].map((n) => lineId("U", n));
const [PHOTO, PDF, BIG, VOICE, PLACE, STICKER, ANSWER] = E2E as [string, ...string[]] as string[];
let line: FakeLine;
let agent: FakeAgent;
let whisper: FakeTranscriptionServer;
let gw: TestGateway;
let adapter: ChannelAdapter;
/** An app's own image server, on another loopback address than the fake LINE (so not "LINE's host"). */
let external: Server;
let externalUrl: string;
const externalAuth: (string | undefined)[] = [];
let externalPng: Buffer;

const limits = (maxBytes = 10_000_000) => ({ maxBytes, signal: AbortSignal.timeout(10_000) });

/** Every inbound message handled and every reply sent. */
const settled = () => queuesDrained(gw.gateway.store, 15_000, "inbox and outbox to settle");

/** Texts LINE delivered to a user or group, in order. */
function textsTo(to: string): string[] {
  return line.calls
    .filter((c) => c.body.to === to)
    .flatMap((c) => c.body.messages.filter((m) => m.type === "text").map((m) => String(m.text)));
}

/** Posts one message event from `userId` (Alice) and returns the event the inbox committed. */
async function send(
  message: Record<string, unknown>,
  o: { groupId?: string; userId?: string } = {},
): Promise<InboundEvent> {
  const event = lineMessageEvent({ message, userId: ALICE, ...o });
  const body = JSON.stringify({ destination: "Ubot", events: [event] });
  const res = await fetch(`${gw.url}/line/webhook`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-line-signature": lineWebhookSignature(SECRET, body) },
    body,
  });
  assert.equal(res.status, 200);
  const item = await gw.gateway.store.getInbound(`line:default:${String(event.webhookEventId)}`);
  assert.ok(item, `the ${String(message.type)} message is in the inbox`);
  return JSON.parse(item.payload) as InboundEvent;
}

before(async () => {
  externalPng = await testPng(20, 20);
  external = createServer((req, res) => {
    externalAuth.push(req.headers.authorization);
    res
      .writeHead(200, { "content-type": "image/png", "content-length": externalPng.length })
      .end(externalPng);
  });
  await new Promise<void>((r) => external.listen(0, "127.0.0.2", r));
  externalUrl = `http://127.0.0.2:${(external.address() as { port: number }).port}`;
  line = await new FakeLine().start();
  agent = await new FakeAgent().start();
  whisper = await new FakeTranscriptionServer().start();
  gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      agent: { stream: false, transcription: { url: whisper.url, model: "whisper-1" } },
      media: { inbound: { maxImageMb: 0.05, maxFileMb: 1 } },
      policy: testCommandPolicy,
      server: { publicBaseUrl: PUBLIC },
      security: { fetchAllowHosts: ["127.0.0.2"] },
      channels: {
        line: {
          channelSecret: SECRET,
          channelAccessToken: line.token,
          allowedUsers: [ALICE, ...E2E],
          allowedGroups: [TEAM],
          apiBase: line.url,
          dataApiBase: line.url,
        },
      },
    },
    extensions: [channelTestExtension()],
  });
  adapter = gw.gateway.adapter("line", "default")!;
});

after(async () => {
  await gw?.stop();
  await line?.stop();
  await agent?.stop();
  await whisper?.stop();
  await closeServer(external);
});

describe("line attachments in", () => {
  it("an image message: fetchAttachment returns the exact bytes from the data API, with the token", async () => {
    assert.equal(adapter.capabilities.downloads, true);
    const png = await testPng(50, 40);
    const id = line.addContent({ bytes: png, contentType: "image/png" });
    const event = await send({ type: "image", id, contentProvider: { type: "line" } });
    assert.equal(event.text, "");
    assert.equal(event.addressed, true);
    assert.deepEqual(event.attachments, [{ kind: "image", platformId: id }]);
    const got = await adapter.fetchAttachment!(event.attachments[0]!, limits());
    assert.deepEqual(got.bytes, png);
    assert.equal(got.mime, "image/png");
    assert.deepEqual(line.contentRequests.at(-1), {
      path: `/v2/bot/message/${id}/content`,
      authorization: `Bearer ${line.token}`,
    });
  });

  it("an audio message is a voice note (m4a); while LINE prepares it the fetch is retryable, then it works", async () => {
    const m4a = Buffer.concat([Buffer.from("\0\0\0\x18ftypM4A "), randomBytes(500)]);
    const id = line.addContent({ bytes: m4a, contentType: "audio/x-m4a", transcoding: "processing" });
    const event = await send({ type: "audio", id, duration: 2500, contentProvider: { type: "line" } });
    assert.deepEqual(event.attachments, [
      { kind: "voice", mime: "audio/mp4", name: `voice-${id}.m4a`, platformId: id },
    ]);
    await assert.rejects(adapter.fetchAttachment!(event.attachments[0]!, limits()), (err: Error) => {
      assert.equal(err.name, "LineContentNotReadyError", "retryable: not an AttachmentUnavailableError");
      assert.match(err.message, /still being prepared/);
      return true;
    });
    line.setTranscoding(id, "succeeded");
    const got = await adapter.fetchAttachment!(event.attachments[0]!, limits());
    assert.deepEqual(got.bytes, m4a);
    assert.equal(got.name, `voice-${id}.m4a`);
  });

  it("a video LINE failed to prepare is unavailable (not retried)", async () => {
    const id = line.addContent({ bytes: randomBytes(100), contentType: "video/mp4", transcoding: "failed" });
    const event = await send({ type: "video", id, duration: 1000, contentProvider: { type: "line" } });
    assert.equal(event.attachments[0]?.kind, "video");
    await assert.rejects(adapter.fetchAttachment!(event.attachments[0]!, limits()), {
      name: "AttachmentUnavailableError",
      message: /failed to prepare/,
    });
  });

  it("a file message carries its name and size; a PDF's bytes come back exactly", async () => {
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n");
    const id = line.addContent({ bytes: pdf, contentType: "application/pdf" });
    const event = await send({ type: "file", id, fileName: "report.pdf", fileSize: pdf.length });
    assert.deepEqual(event.attachments, [
      { kind: "file", platformId: id, name: "report.pdf", size: pdf.length },
    ]);
    const got = await adapter.fetchAttachment!(event.attachments[0]!, limits());
    assert.deepEqual(got.bytes, pdf);
    assert.equal(got.name, "report.pdf");
  });

  it("an unknown message id (404 Not found) and a wrong token (401) are unavailable, with the reason", async () => {
    await assert.rejects(adapter.fetchAttachment!({ kind: "image", platformId: "999" }, limits()), {
      name: "AttachmentUnavailableError",
      message: /answered 404 \(the file is gone or expired\)/,
    });
    const bad = await startTestGateway({
      config: {
        agentUrl: agent.url,
        channels: {
          line: {
            channelSecret: SECRET,
            channelAccessToken: "wrong",
            apiBase: line.url,
            dataApiBase: line.url,
          },
        },
      },
    });
    try {
      const id = line.addContent({ bytes: Buffer.from("x"), contentType: "image/jpeg" });
      const a = bad.gateway.adapter("line", "default")!;
      await assert.rejects(a.fetchAttachment!({ kind: "image", platformId: id }, limits()), {
        name: "AttachmentUnavailableError",
        message: /answered 401/,
      });
      await assert.rejects(a.fetchAttachment!({ kind: "voice", platformId: id }, limits()), {
        name: "AttachmentUnavailableError",
        message: /answered 401 \(check channels\.line\.channelAccessToken\)/,
      });
    } finally {
      await bad.stop();
    }
  });

  it("content over the limit is refused from its Content-Length", async () => {
    const id = line.addContent({ bytes: randomBytes(40_000), contentType: "image/jpeg" });
    await assert.rejects(adapter.fetchAttachment!({ kind: "image", platformId: id }, limits(20_000)), {
      name: "MediaTooLargeError",
      message: /larger than 20000 bytes/,
    });
  });

  it("an image from an app's own server (contentProvider external) is fetched from that URL without the token", async () => {
    const url = `${externalUrl}/images/original.png`;
    const event = await send({
      type: "image",
      id: "700000000000001",
      contentProvider: { type: "external", originalContentUrl: url, previewImageUrl: `${externalUrl}/p.png` },
    });
    assert.deepEqual(event.attachments, [{ kind: "image", platformId: "700000000000001", url }]);
    const got = await adapter.fetchAttachment!(event.attachments[0]!, limits());
    assert.deepEqual(got.bytes, externalPng);
    assert.deepEqual(externalAuth, [undefined], "the channel access token stays with LINE");
  });

  it("an external URL on a private address the operator did not allow is refused by the URL guard", async () => {
    const a: Attachment = { kind: "image", platformId: "1", url: "http://10.1.2.3/secret.png" };
    await assert.rejects(adapter.fetchAttachment!(a, limits()), { name: "UrlRefusedError" });
  });

  it("a location becomes a location attachment with its title and address", async () => {
    const event = await send({
      type: "location",
      title: "Tokyo Tower",
      address: "4-2-8 Shibakoen, Minato-ku, Tokyo",
      latitude: 35.65861,
      longitude: 139.74556,
    });
    assert.deepEqual(event.attachments, [
      {
        kind: "location",
        location: {
          latitude: 35.65861,
          longitude: 139.74556,
          name: "Tokyo Tower",
          address: "4-2-8 Shibakoen, Minato-ku, Tokyo",
        },
      },
    ]);
  });

  it("a sticker carries its keywords as alt text, and a message sticker's words as the text", async () => {
    const plain = await send({
      type: "sticker",
      packageId: "446",
      stickerId: "1988",
      stickerResourceType: "STATIC",
      keywords: ["Happy", "Smile"],
    });
    assert.equal(plain.text, "");
    assert.deepEqual(plain.attachments, [
      { kind: "sticker", name: "LINE sticker 446/1988", alt: "Happy, Smile" },
    ]);
    const worded = await send({
      type: "sticker",
      packageId: "789",
      stickerId: "10855",
      stickerResourceType: "MESSAGE",
      text: "See you!",
    });
    assert.equal(worded.text, "See you!");
    assert.deepEqual(worded.attachments, [{ kind: "sticker", name: "LINE sticker 789/10855" }]);
    await assert.rejects(adapter.fetchAttachment!(worded.attachments[0]!, limits()), {
      name: "AttachmentUnavailableError",
    });
  });

  it("in a group that requires a mention, a picture is committed but not addressed", () => {
    const read = normalizeLineEvent(
      lineMessageEvent({ message: { type: "image", id: "5" }, userId: ALICE, groupId: TEAM }),
      { account: "default", requireMention: true },
    );
    assert.equal(read.kind, "event");
    assert.equal(read.kind === "event" && read.event.addressed, false);
  });

  it("a location without coordinates is unreadable, with the field named", () => {
    const read = normalizeLineEvent(
      lineMessageEvent({ message: { type: "location", title: "x", latitude: "north" }, userId: ALICE }),
      { account: "default", requireMention: false },
    );
    assert.equal(read.kind, "unreadable");
    assert.match(read.kind === "unreadable" ? read.problems.join(";") : "", /message\.latitude/);
  });
});

describe("line media normalizer: properties", () => {
  const anyJson = fc.jsonValue({ maxDepth: 2 });
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(fc.oneof(a, anyJson), { nil: undefined });
  const message = fc.record(
    {
      type: fc.constantFrom("image", "video", "audio", "file", "location", "sticker"),
      id: maybe(fc.string()),
      contentProvider: maybe(
        fc.record(
          { type: maybe(fc.constantFrom("line", "external")), originalContentUrl: maybe(fc.webUrl()) },
          { requiredKeys: [] },
        ),
      ),
      fileName: maybe(fc.string()),
      fileSize: maybe(fc.integer()),
      title: maybe(fc.string()),
      address: maybe(fc.string()),
      latitude: maybe(fc.double()),
      longitude: maybe(fc.double()),
      packageId: maybe(fc.string()),
      stickerId: maybe(fc.string()),
      keywords: maybe(fc.array(fc.string(), { maxLength: 3 })),
      text: maybe(fc.string()),
    },
    { requiredKeys: ["type"] },
  );

  it("any field values: an event whose one attachment has the message's kind and what it needs, or unreadable", () => {
    const kindOf: Record<string, string> = { audio: "voice" };
    fc.assert(
      fc.property(message, (m) => {
        const raw = lineMessageEvent({ message: {}, userId: ALICE });
        raw.message = m;
        const read = normalizeLineEvent(raw, { account: "default", requireMention: false });
        assert.ok(read.kind === "event" || read.kind === "unreadable", read.kind);
        if (read.kind !== "event") return;
        assert.equal(typeof read.event.text, "string");
        const [a, ...rest] = read.event.attachments;
        assert.equal(rest.length, 0);
        assert.equal(a?.kind, kindOf[m.type] ?? m.type);
        if (a.kind === "location") {
          assert.ok(Number.isFinite(a.location?.latitude) && Number.isFinite(a.location?.longitude));
        } else if (a.kind !== "sticker") {
          assert.ok(typeof a.platformId === "string" && /\S/.test(a.platformId), "fetchable by id");
        }
        if (a.url !== undefined) assert.match(a.url, /^https?:\/\//);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("line attachments end to end (webhook → worker → agent → LINE)", () => {
  // Messages of the tests above (retries included) are answered first, so "the last request" is this test's.
  before(() => settled());

  const lastUserText = () => textOf(agent.requests.at(-1)!.body.messages.at(-1)!.content);

  it("a photo reaches the agent as an image part with the exact bytes", async () => {
    const png = await testPng(64, 48);
    const id = line.addContent({ bytes: png, contentType: "image/png" });
    await send({ type: "image", id, contentProvider: { type: "line" } }, { userId: PHOTO! });
    await settled();
    const images = imagesOf(agent.requests.at(-1)!);
    assert.equal(images.length, 1);
    assert.equal(images[0]!.mime, "image/png");
    assert.ok(images[0]!.bytes.equals(png), "the exact bytes LINE served");
    assert.equal(textsTo(PHOTO!).length, 1, "one answer, no note");
  });

  it("a PDF's text reaches the agent", async () => {
    const pdf = makePdf([{ lines: ["The lease ends on 30 June."] }]);
    const id = line.addContent({ bytes: pdf, contentType: "application/octet-stream" });
    await send({ type: "file", id, fileName: "lease.pdf", fileSize: pdf.length }, { userId: PDF! });
    await settled();
    const text = lastUserText();
    assert.match(text, /\[file "lease\.pdf"\]/);
    assert.match(text, /The lease ends on 30 June\./);
  });

  it("a file over the limit: never downloaded, the user gets a note, nothing is dead", async () => {
    const id = line.addContent({ bytes: randomBytes(1_200_000), contentType: "application/zip" });
    const calls = agent.requests.length;
    await send({ type: "file", id, fileName: "backup.zip", fileSize: 1_200_000 }, { userId: BIG! });
    await settled();
    assert.ok(!line.contentRequests.some((r) => r.path.includes(id)), "LINE's fileSize is over the limit");
    assert.equal(agent.requests.length, calls, "nothing left to ask the agent");
    assert.deepEqual(textsTo(BIG!), [
      'File "backup.zip" is 1.1 MB; the limit here is 1 MB, so it was not passed on. Send a smaller one, or ask the operator to raise the media.inbound limits.',
    ]);
    assert.equal((await gw.gateway.store.inboxStats()).dead, 0);
  });

  it("a voice message LINE is still preparing is retried; then its exact bytes are transcribed for the agent", async () => {
    const m4a = Buffer.concat([Buffer.from("\0\0\0\x18ftypM4A "), randomBytes(64)]);
    whisper.say(m4a, "Call me back after six.");
    const id = line.addContent({ bytes: m4a, contentType: "audio/x-m4a", transcoding: "processing" });
    const event = await send(
      { type: "audio", id, duration: 1200, contentProvider: { type: "line" } },
      { userId: VOICE! },
    );
    const retried = await waitFor(async () => {
      const item = await gw.gateway.store.getInbound(event.id);
      return item && item.state === "pending" && item.lastError ? item : undefined;
    });
    assert.match(retried.lastError!, /still being prepared by LINE/);
    assert.deepEqual(textsTo(VOICE!), [], "no note while it is only being prepared");
    line.setTranscoding(id, "succeeded");
    await waitFor(() => textsTo(VOICE!).length > 0, 15_000, "the answer after the retry");
    await settled();
    const heard = whisper.requests.find((r) => r.file?.name === `voice-${id}.m4a`);
    assert.ok(heard?.file?.bytes.equals(m4a), "the exact bytes LINE served reach the transcription server");
    assert.equal(lastUserText(), "[voice message, transcribed] Call me back after six.");
    assert.deepEqual(textsTo(VOICE!), ["echo: [voice message, transcribed] Call me back after six."]);
  });

  it("a location reaches the agent as text", async () => {
    await send(
      {
        type: "location",
        title: "Tokyo Tower",
        address: "Minato-ku, Tokyo",
        latitude: 35.65861,
        longitude: 139.74556,
      },
      { userId: PLACE! },
    );
    await settled();
    assert.equal(lastUserText(), "[location] Tokyo Tower, Minato-ku, Tokyo (35.65861, 139.74556)");
  });

  it("a sticker reaches the agent as its keywords", async () => {
    await send(
      {
        type: "sticker",
        packageId: "446",
        stickerId: "1988",
        stickerResourceType: "STATIC",
        keywords: ["Thumbs up", "OK"],
      },
      { userId: STICKER! },
    );
    await settled();
    assert.equal(lastUserText(), "[sticker] Thumbs up, OK");
  });

  it("an image in the agent's answer arrives as a LINE image message serving the exact bytes", async () => {
    const png = await testPng(30, 20);
    agent.options.reply = () => `Here:\n\n![plot](data:image/png;base64,${png.toString("base64")})`;
    try {
      await send({ type: "text", text: "plot it" }, { userId: ANSWER! });
      await waitFor(
        () => line.calls.find((c) => c.body.to === ANSWER && c.body.messages.some((m) => m.type === "image")),
        15_000,
        "the image message",
      );
      await settled();
    } finally {
      agent.options.reply = undefined;
    }
    const image = line.calls
      .flatMap((c) => (c.body.to === ANSWER ? c.body.messages : []))
      .find((m) => m.type === "image")!;
    const original = String(image.originalContentUrl);
    assert.ok(original.startsWith(`${PUBLIC}/media/`), original);
    assert.ok(String(image.previewImageUrl).startsWith(`${PUBLIC}/media/`));
    const res = await fetch(gw.url + original.slice(PUBLIC.length));
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(png), "LINE fetches the exact picture");
    assert.ok(!textsTo(ANSWER!).some((t) => t.includes("base64")));
  });

  it("a PDF in the agent's answer arrives as a note with a link that serves the exact bytes", async () => {
    const DOC = E2E[7]!;
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
    agent.options.reply = () => `Done: [report.pdf](data:application/pdf;base64,${pdf.toString("base64")})`;
    try {
      await send({ type: "text", text: "write the report" }, { userId: DOC });
      await waitFor(() => textsTo(DOC).some((t) => t.startsWith("report.pdf: ")), 15_000, "the link note");
      await settled();
    } finally {
      agent.options.reply = undefined;
    }
    assert.ok(textsTo(DOC).includes("Done: report.pdf"), "the link text stays");
    const link = textsTo(DOC)
      .find((t) => t.startsWith("report.pdf: "))!
      .slice("report.pdf: ".length);
    assert.ok(link.startsWith(`${PUBLIC}/media/`), link);
    const res = await fetch(gw.url + link.slice(PUBLIC.length));
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(pdf), "the link serves the exact PDF");
    assert.ok(!textsTo(DOC).some((t) => t.includes("base64")));
  });
});
