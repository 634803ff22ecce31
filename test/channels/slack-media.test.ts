// Slack attachments: a shared file reaches the inbox as an attachment (even with no text), and the adapter's
// fetchAttachment gets its exact bytes from url_private with the bot token; a token without files:read (which
// Slack answers with its HTML sign-in page) and a file over the limit are refused with a message.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { AttachmentUnavailableError } from "../../src/channels/sdk/download.ts";
import { normalizeSlackEvent } from "../../src/channels/slack/ingress.ts";
import type { ChannelAdapter } from "../../src/channels/types.ts";
import type { Attachment, InboundEvent } from "../../src/core/event.ts";
import { FakeAgent, imagesOf, textOf } from "../fakes/openai-agent.ts";
import { FakeSlack, slackEventEnvelope, slackFileShareEvent, slackSignature } from "../fakes/slack.ts";
import { FakeTranscriptionServer } from "../fakes/transcription.ts";
import { queuesDrained, startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";
import { channelTestExtension, testCommandPolicy, testPng } from "./extension.ts";

const SECRET = "slack-signing-secret";
let slack: FakeSlack;
let agent: FakeAgent;
let whisper: FakeTranscriptionServer;
let gw: TestGateway;
let adapter: ChannelAdapter;
let seq = 0;

/** An m4a as Slack's clips and phones write it: an MP4 container with the M4A brand. */
const m4a = (payload: string) =>
  Buffer.concat([Buffer.from("\0\0\0\x18ftypM4A \0\0\0\0", "latin1"), Buffer.from(payload)]);

const limits = (maxBytes = 10_000_000) => ({ maxBytes, signal: AbortSignal.timeout(10_000) });

async function post(body: object) {
  const raw = JSON.stringify(body);
  return fetch(`${gw.url}/slack/events`, {
    method: "POST",
    headers: { "content-type": "application/json", ...slackSignature(SECRET, raw) },
    body: raw,
  });
}

/** Every inbound message handled and every reply sent. */
const settled = () => queuesDrained(gw.gateway.store, 15_000, "inbox and outbox to settle");

/**
 * Posts a file_share DM from Alice (in `channel`, a DM of hers) and returns the event the inbox committed, once
 * the gateway has handled it (the worker downloads the files too: tests that change the fake's scopes or token
 * must not overlap with that).
 */
async function share(
  files: ReturnType<FakeSlack["addFile"]>[],
  text = "",
  channel = "DALICE",
): Promise<InboundEvent> {
  const ts = `${1_800_000_000 + ++seq}.000300`;
  const event = slackFileShareEvent({ files, channel, user: "UALICE", ts, text });
  assert.equal((await post(slackEventEnvelope(event))).status, 200);
  const item = await gw.gateway.store.getInbound(`slack:default:${ts}:${channel}`);
  assert.ok(item, "the file_share message is in the inbox");
  await settled();
  return JSON.parse(item.payload) as InboundEvent;
}

/** Texts Slack shows in a conversation, in order. */
function textsIn(channel: string): string[] {
  return slack
    .callsTo("chat.postMessage")
    .filter((c) => c.args.channel === channel && !c.error)
    .map((c) => String(c.args.text));
}

before(async () => {
  slack = await new FakeSlack().start();
  agent = await new FakeAgent().start();
  whisper = await new FakeTranscriptionServer().start();
  gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      agent: { stream: false, transcription: { url: whisper.url, model: "whisper-1" } },
      media: { inbound: { maxImageMb: 0.05, maxFileMb: 1 } },
      policy: testCommandPolicy,
      channels: {
        slack: {
          botToken: slack.token,
          signingSecret: SECRET,
          allowedUsers: ["UALICE"],
          apiBase: slack.apiBase,
        },
      },
    },
    extensions: [channelTestExtension()],
  });
  adapter = gw.gateway.adapter("slack", "default")!;
});

after(async () => {
  await gw?.stop();
  await slack?.stop();
  await agent?.stop();
  await whisper?.stop();
});

describe("slack attachments in", () => {
  it("a photo shared without text is ingested, and fetchAttachment returns its exact bytes", async () => {
    assert.equal(adapter.capabilities.downloads, true);
    const png = await testPng(40, 30);
    const file = slack.addFile({ bytes: png, name: "cat.png", mimetype: "image/png" });
    const event = await share([file]);
    assert.equal(event.text, "");
    assert.deepEqual(event.attachments, [
      {
        kind: "image",
        mime: "image/png",
        name: "cat.png",
        size: png.length,
        url: file.url_private,
        platformId: file.id,
      },
    ]);
    const got = await adapter.fetchAttachment!(event.attachments[0]!, limits());
    assert.deepEqual(got.bytes, png);
    assert.equal(got.mime, "image/png");
    assert.equal(got.name, "cat.png");
    assert.equal(slack.fileRequests.at(-1)?.authorization, `Bearer ${slack.token}`);
  });

  it("an audio clip is a voice message, an uploaded mp3 audio, a PDF a file; all in one message", async () => {
    const clip = slack.addFile({
      bytes: m4a("clip"),
      name: "audio_message.m4a",
      mimetype: "audio/mp4",
      subtype: "slack_audio",
    });
    const mp3 = slack.addFile({
      bytes: Buffer.concat([Buffer.from("ID3\x04\0\0\0\0\0\0"), randomBytes(200)]),
      name: "song.mp3",
      mimetype: "audio/mpeg",
    });
    const pdf = slack.addFile({
      bytes: Buffer.from("%PDF-1.4\n%%EOF\n"),
      name: "a.pdf",
      mimetype: "application/pdf",
    });
    const event = await share([clip, mp3, pdf], "listen to these");
    assert.equal(event.text, "listen to these");
    assert.deepEqual(
      event.attachments.map((a) => [a.kind, a.name]),
      [
        ["voice", "audio_message.m4a"],
        ["audio", "song.mp3"],
        ["file", "a.pdf"],
      ],
    );
    const got = await adapter.fetchAttachment!(event.attachments[2]!, limits());
    assert.equal(got.bytes.toString(), "%PDF-1.4\n%%EOF\n");
  });

  it("without the files:read scope Slack serves its sign-in page: refused, saying to add files:read", async () => {
    const png = await testPng();
    const a: Attachment = {
      kind: "image",
      mime: "image/png",
      url: slack.addFile({ bytes: png, name: "x.png", mimetype: "image/png" }).url_private,
    };
    slack.scopes.delete("files:read");
    try {
      await assert.rejects(adapter.fetchAttachment!(a, limits()), (err: Error) => {
        assert.ok(err instanceof AttachmentUnavailableError, "not retried: the worker tells the user");
        assert.match(err.message, /files:read/);
        assert.match(err.message, /reinstall the app/);
        return true;
      });
    } finally {
      slack.scopes.add("files:read");
    }
    assert.deepEqual(
      (await adapter.fetchAttachment!(a, limits())).bytes,
      png,
      "works once the scope is there",
    );
  });

  it("a wrong bot token gets the same sign-in page: refused with the fix, never the page as the file", async () => {
    const a: Attachment = {
      kind: "file",
      mime: "text/plain",
      url: slack.addFile({ bytes: Buffer.from("notes"), name: "n.txt", mimetype: "text/plain" }).url_private,
    };
    const token = slack.token;
    slack.token = "xoxb-rotated";
    try {
      await assert.rejects(adapter.fetchAttachment!(a, limits()), (err: Error) => {
        assert.ok(err instanceof AttachmentUnavailableError);
        assert.match(err.message, /files:read.*channels\.slack\.botToken/);
        return true;
      });
    } finally {
      slack.token = token;
    }
  });

  it("a file Slack redirects to its CDN: the exact bytes, and the token stays with Slack", async () => {
    const png = await testPng(20, 10);
    const file = slack.addFile({ bytes: png, name: "cdn.png", mimetype: "image/png", viaCdn: true });
    const got = await adapter.fetchAttachment!({ kind: "image", url: file.url_private }, limits());
    assert.deepEqual(got.bytes, png);
    assert.equal(slack.fileRequests.at(-1)?.authorization, `Bearer ${slack.token}`);
    assert.equal(slack.cdnRequests.length, 1);
    assert.equal(slack.cdnRequests[0]!.authorization, undefined, "no token to another origin");
  });

  it("the sign-in page is recognised by its bytes when a proxy dropped the Content-Type", async () => {
    const png = await testPng(6, 6);
    const file = slack.addFile({ bytes: png, name: "p.png", mimetype: "image/png" });
    slack.stripFileContentType = true;
    try {
      assert.deepEqual(
        (
          await adapter.fetchAttachment!(
            { kind: "image", mime: "image/png", url: file.url_private },
            limits(),
          )
        ).bytes,
        png,
      );
      slack.scopes.delete("files:read");
      await assert.rejects(
        adapter.fetchAttachment!({ kind: "image", mime: "image/png", url: file.url_private }, limits()),
        { name: "SlackFilesScopeError", message: /lacks the files:read scope/ },
      );
    } finally {
      slack.stripFileContentType = false;
      slack.scopes.add("files:read");
    }
  });

  it("an HTML file someone shared is passed on as HTML", async () => {
    const html = Buffer.from("<!DOCTYPE html><p>my page</p>");
    const file = slack.addFile({ bytes: html, name: "page.html", mimetype: "text/html" });
    const got = await adapter.fetchAttachment!(
      { kind: "file", mime: "text/html", url: file.url_private },
      limits(),
    );
    assert.deepEqual(got.bytes, html);
  });

  it("a file over the limit is refused from its Content-Length", async () => {
    const big = slack.addFile({
      bytes: randomBytes(50_000),
      name: "big.bin",
      mimetype: "application/octet-stream",
    });
    await assert.rejects(adapter.fetchAttachment!({ kind: "file", url: big.url_private }, limits(10_000)), {
      name: "MediaTooLargeError",
      message: /larger than 10000 bytes/,
    });
  });

  it("a url_private that is not Slack's is refused without sending the token anywhere", async () => {
    const before = slack.fileRequests.length;
    await assert.rejects(
      adapter.fetchAttachment!(
        { kind: "file", url: "https://files.example.test/files-pri/T1-F1/x.png" },
        limits(),
      ),
      { name: "AttachmentUnavailableError", message: /not on the platform's own hosts/ },
    );
    assert.equal(slack.fileRequests.length, before);
  });

  it("a Slack Connect stub (file_access: check_file_info) is resolved through files.info", async () => {
    const png = await testPng(8, 8);
    const file = slack.addFile({ bytes: png, name: "shared.png", mimetype: "image/png" });
    const event = await share([{ id: file.id, file_access: "check_file_info" } as never]);
    assert.deepEqual(event.attachments, [{ kind: "file", platformId: file.id }]);
    const got = await adapter.fetchAttachment!(event.attachments[0]!, limits());
    assert.deepEqual(got.bytes, png);
    assert.equal(got.name, "shared.png");
    assert.equal(slack.callsTo("files.info").at(-1)?.args.file, file.id);
  });

  it("a stub files.info does not know, or cannot read without files:read, is unavailable with Slack's reason", async () => {
    await assert.rejects(adapter.fetchAttachment!({ kind: "file", platformId: "F0NOSUCH" }, limits()), {
      name: "AttachmentUnavailableError",
      message: /files\.info failed: file_not_found/,
    });
    const file = slack.addFile({ bytes: Buffer.from("x"), name: "x.txt", mimetype: "text/plain" });
    slack.scopes.delete("files:read");
    try {
      await assert.rejects(adapter.fetchAttachment!({ kind: "file", platformId: file.id }, limits()), {
        name: "AttachmentUnavailableError",
        message: /missing_scope \(needs files:read\): add the missing scope under OAuth & Permissions/,
      });
    } finally {
      slack.scopes.add("files:read");
    }
  });

  it("deleted files and files past a free workspace's history are not attachments", () => {
    const r = normalizeSlackEvent(
      slackEventEnvelope(
        slackFileShareEvent({
          files: [{ id: "F1", mode: "tombstone" } as never, { id: "F2", mode: "hidden_by_limit" } as never],
          channel: "DALICE",
          user: "UALICE",
          ts: "1800000000.000100",
          text: "gone",
        }),
      ),
      { account: "default", requireMention: true, replyInThread: true },
    );
    assert.equal(r.kind, "event");
    assert.deepEqual(r.kind === "event" && r.event.attachments, []);
  });
});

describe("slack attachments out", () => {
  it("an image in a reply arrives as an uploaded file with the exact bytes", async () => {
    const png = await testPng(24, 24);
    const before = slack.uploads.length;
    await adapter.send(
      { channel: "slack", account: "default", conversationId: "DALICE" },
      { text: "", media: [{ dataBase64: png.toString("base64"), mime: "image/png", filename: "out.png" }] },
    );
    await waitFor(() => slack.uploads.length > before, 5000, "the upload");
    assert.deepEqual(slack.uploads.at(-1)!.bytes, png);
    assert.equal(slack.uploads.at(-1)!.filename, "out.png");
    const complete = slack.callsTo("files.completeUploadExternal").at(-1)!;
    assert.equal(complete.args.channel_id, "DALICE");
  });

  it("without files:write the upload fails saying which scope to add", async () => {
    slack.scopes.delete("files:write");
    try {
      await assert.rejects(
        adapter.send(
          { channel: "slack", account: "default", conversationId: "DALICE" },
          { text: "", media: [{ dataBase64: "aGk=", mime: "image/png", filename: "x.png" }] },
        ),
        { name: "SlackApiError", message: /missing_scope \(needs files:write\)/ },
      );
    } finally {
      slack.scopes.add("files:write");
    }
  });
});

describe("slack attachments end to end (webhook → worker → agent → Slack)", () => {
  // Messages of the tests above (retries included) are answered first, so "the last request" is this test's.
  before(() => settled());

  it("a photo without text reaches the agent as an image part with the exact bytes", async () => {
    const png = await testPng(64, 48);
    const file = slack.addFile({ bytes: png, name: "photo.png", mimetype: "image/png" });
    await share([file], "", "DE2EPHOTO");
    const request = agent.requests.at(-1)!;
    const images = imagesOf(request);
    assert.equal(images.length, 1);
    assert.equal(images[0]!.mime, "image/png");
    assert.ok(images[0]!.bytes.equals(png), "the exact bytes Slack served");
    assert.ok(
      slack.fileRequests.some((r) => r.path.includes(file.id) && r.authorization === `Bearer ${slack.token}`),
    );
  });

  it("a voice clip's exact bytes reach the transcription server and its transcript reaches the agent", async () => {
    const clip = m4a("please summarise the meeting");
    whisper.say(clip, "Please summarise the meeting.");
    const file = slack.addFile({
      bytes: clip,
      name: "audio_message.m4a",
      mimetype: "audio/mp4",
      subtype: "slack_audio",
    });
    await share([file], "", "DE2EVOICE");
    const heard = whisper.requests.at(-1)!;
    assert.ok(heard.file?.bytes.equals(clip), "the exact bytes Slack served");
    assert.equal(heard.file?.name, "audio_message.m4a");
    assert.equal(
      textOf(agent.requests.at(-1)!.body.messages.at(-1)!.content),
      "[voice message, transcribed] Please summarise the meeting.",
    );
  });

  it("a PDF's text reaches the agent with the message", async () => {
    const pdf = makePdf([{ lines: ["Quarterly revenue was 1.2 million."] }]);
    const file = slack.addFile({ bytes: pdf, name: "q3.pdf", mimetype: "application/pdf" });
    await share([file], "sum this up", "DE2EPDF");
    const text = textOf(agent.requests.at(-1)!.body.messages.at(-1)!.content);
    assert.match(text, /sum this up/);
    assert.match(text, /\[file "q3\.pdf"\]/);
    assert.match(text, /Quarterly revenue was 1\.2 million\./);
  });

  it("a picture over the limit: the user gets a note, the text still reaches the agent, nothing is dead", async () => {
    const big = Buffer.concat([await testPng(16, 16), randomBytes(80_000)]);
    const file = slack.addFile({ bytes: big, name: "huge.png", mimetype: "image/png" });
    const before = slack.fileRequests.length;
    await share([file], "what is in it?", "DE2EBIG");
    assert.equal(
      slack.fileRequests.length,
      before,
      "Slack's declared size is over the limit: never downloaded",
    );
    assert.equal(textOf(agent.requests.at(-1)!.body.messages.at(-1)!.content), "what is in it?");
    const texts = textsIn("DE2EBIG");
    assert.ok(texts.includes("echo: what is in it?"), JSON.stringify(texts));
    assert.ok(
      texts.some((t) =>
        /^Picture "huge\.png" is \d+ KB; the limit here is 52 KB, so it was not passed on/.test(t),
      ),
      JSON.stringify(texts),
    );
    assert.equal((await gw.gateway.store.inboxStats()).dead, 0);
  });

  it("without files:read the user is told the file could not be downloaded, instead of silence", async () => {
    const file = slack.addFile({ bytes: await testPng(), name: "locked.png", mimetype: "image/png" });
    slack.scopes.delete("files:read");
    try {
      await share([file], "", "DE2ESCOPE");
    } finally {
      slack.scopes.add("files:read");
    }
    const texts = textsIn("DE2ESCOPE");
    assert.ok(
      texts.some((t) => /could not be downloaded from slack/.test(t)),
      JSON.stringify(texts),
    );
    assert.match(
      adapter.health().lastError?.message ?? "",
      /lacks the files:read scope/,
      "the operator's fix is in `clawgate channels status`",
    );
    assert.equal((await gw.gateway.store.inboxStats()).dead, 0);
  });

  it("an image in the agent's answer arrives as a native Slack file with the exact bytes", async () => {
    const png = await testPng(12, 12);
    const uploads = slack.uploads.length;
    agent.options.reply = () => `Here:\n\n![chart](data:image/png;base64,${png.toString("base64")})`;
    try {
      const ts = `${1_800_000_000 + ++seq}.000300`;
      const event = {
        type: "message",
        channel: "DE2EOUT",
        channel_type: "im",
        user: "UALICE",
        text: "draw",
        ts,
      };
      assert.equal((await post(slackEventEnvelope(event))).status, 200);
      await waitFor(() => slack.uploads.length > uploads, 15_000, "the upload");
      await settled();
    } finally {
      agent.options.reply = undefined;
    }
    assert.ok(slack.uploads.at(-1)!.bytes.equals(png));
    const complete = slack.callsTo("files.completeUploadExternal").at(-1)!;
    assert.equal(complete.args.channel_id, "DE2EOUT");
    assert.ok(!textsIn("DE2EOUT").some((t) => t.includes("base64")), "no data URL in the text");
  });

  it("a PDF data URL in the agent's answer arrives as a Slack file with the exact bytes and its name", async () => {
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
    const uploads = slack.uploads.length;
    agent.options.reply = () => `Done: [report.pdf](data:application/pdf;base64,${pdf.toString("base64")})`;
    try {
      const ts = `${1_800_000_000 + ++seq}.000300`;
      const event = {
        type: "message",
        channel: "DE2EDOC",
        channel_type: "im",
        user: "UALICE",
        text: "write the report",
        ts,
      };
      assert.equal((await post(slackEventEnvelope(event))).status, 200);
      await waitFor(() => slack.uploads.length > uploads, 15_000, "the upload");
      await settled();
    } finally {
      agent.options.reply = undefined;
    }
    const upload = slack.uploads.at(-1)!;
    assert.ok(upload.bytes.equals(pdf), "the exact bytes");
    assert.equal(upload.filename, "report.pdf");
    assert.equal(slack.callsTo("files.completeUploadExternal").at(-1)!.args.channel_id, "DE2EDOC");
    assert.ok(
      textsIn("DE2EDOC").some((t) => t.includes("Done: report.pdf")),
      "the link text stays",
    );
    assert.ok(!textsIn("DE2EDOC").some((t) => t.includes("base64")), "no data URL in the text");
  });
});
