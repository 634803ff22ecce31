// Files and voice end to end through the inbox worker: a webhook with an attachment → download from the
// channel's file API → PDF text, a transcript from the fake transcription server, or input_audio → the fake
// agent's content parts. The units are tested in test/media/; this proves the worker passes what they make.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { channelModules } from "../../src/channels/registry.ts";
import { findFfmpeg } from "../../src/media/audio/convert.ts";
import { dmChannelModule, type SentRecord } from "../fakes/dm-channel.ts";
import { FakeFileHost } from "../fakes/file-host.ts";
import { FakeAgent, type FakeContentPart, textOf } from "../fakes/openai-agent.ts";
import { FakeTranscriptionServer } from "../fakes/transcription.ts";
import { makeAmr, makeWav, parseWav } from "../helpers/audio.ts";
import { queuesDrained, startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { makePdf } from "../helpers/pdf.ts";

const ffmpeg = await findFfmpeg();
const needsFfmpeg =
  !ffmpeg && !process.env.CI ? "ffmpeg is not installed (bash .ci/prepare-services installs it)" : false;

const sent: SentRecord[] = [];
channelModules.extractchat = dmChannelModule("extractchat", sent);
channelModules.audiochat = dmChannelModule("audiochat", sent);

const oggVoice = Buffer.concat([
  Buffer.from("OggS\0\x02", "latin1"),
  Buffer.alloc(20),
  Buffer.from("\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0", "latin1"),
  Buffer.from("voice payload e2e"),
]);

describe("files and voice reach the agent as text or audio", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  let files: FakeFileHost;
  let whisper: FakeTranscriptionServer;
  const users = ["p1", "p2", "p3", "v1", "v2"];
  before(async () => {
    agent = await new FakeAgent().start();
    files = await new FakeFileHost().start();
    whisper = await new FakeTranscriptionServer({ apiKey: "sk-whisper-key", models: ["whisper-1"] }).start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        agent: {
          stream: false,
          transcription: { url: whisper.url, model: "whisper-1", language: "en", apiKey: "sk-whisper-key" },
        },
        channels: {
          extractchat: { allowFrom: users, files: { baseUrl: files.url, token: files.token } },
        },
      },
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
    await files.stop();
    await whisper.stop();
  });

  const send = async (channel: string, senderId: string, text: string, attachments: unknown[]) => {
    const res = await fetch(`${gw.url}/${channel}/in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ senderId, text, attachments }),
    });
    assert.equal(res.status, 200);
  };
  const settled = () => queuesDrained(gw.gateway.store);
  const lastUserContent = () => agent.requests.at(-1)!.body.messages.at(-1)!.content;
  const repliesTo = (senderId: string) =>
    sent.filter((s) => s.to.conversationId === `dm-${senderId}`).map((s) => s.message.text);

  it("a PDF's text reaches the agent under its name", async () => {
    const pdf = makePdf([
      { lines: ["Quarterly revenue grew by 12 percent."] },
      { lines: ["Costs stayed flat."] },
    ]);
    files.add("pdf1", pdf, "application/octet-stream");
    await send("extractchat", "p1", "summarise", [{ kind: "file", platformId: "pdf1", name: "q3.pdf" }]);
    await settled();
    assert.equal(
      textOf(lastUserContent()),
      'summarise\n[file "q3.pdf"]\nQuarterly revenue grew by 12 percent.\nCosts stayed flat.',
    );
  });

  it("a scanned PDF and a damaged PDF get a note for the user, not a failed message", async () => {
    files.add("scan", makePdf([{ lines: [] }]), "application/pdf");
    await send("extractchat", "p2", "what does it say?", [
      { kind: "file", platformId: "scan", name: "scan.pdf" },
    ]);
    await settled();
    assert.match(repliesTo("p2").join("\n"), /has no text to read/);
    files.add("broken", Buffer.from("%PDF-1.4\nbroken body\n"), "application/pdf");
    await send("extractchat", "p3", "and this?", [{ kind: "file", platformId: "broken", name: "bad.pdf" }]);
    await settled();
    assert.match(repliesTo("p3").join("\n"), /^The PDF bad\.pdf could not be read/m);
    assert.equal((await gw.gateway.store.inboxStats()).dead, 0);
  });

  it("a voice note's exact bytes reach the transcription server and its transcript reaches the agent", async () => {
    whisper.say(oggVoice, "Please book a table for two.");
    files.add("voice1", oggVoice, "audio/ogg");
    await send("extractchat", "v1", "", [{ kind: "voice", platformId: "voice1" }]);
    await settled();
    const req = whisper.requests.at(-1)!;
    assert.deepEqual(req.file, { name: "audio.ogg", type: "audio/ogg", bytes: oggVoice });
    assert.deepEqual(req.fields, { model: "whisper-1", language: "en", response_format: "json" });
    assert.match(textOf(lastUserContent()), /\[voice message, transcribed\] Please book a table for two\.$/);
    // The user can ask what was heard.
    await send("extractchat", "v1", "/transcript", []);
    await settled();
    assert.equal(
      repliesTo("v1").at(-1),
      "Your last voice message was heard as:\nPlease book a table for two.",
    );
  });

  it("an AMR voice note is converted to WAV for the transcription server", {
    skip: needsFfmpeg,
  }, async () => {
    files.add("amr1", makeAmr(50), "audio/amr");
    await send("extractchat", "v2", "", [{ kind: "voice", platformId: "amr1", name: "v.amr" }]);
    await settled();
    const req = whisper.requests.at(-1)!;
    assert.equal(req.file!.name, "v.wav");
    assert.equal(parseWav(req.file!.bytes).rate, 16_000);
    assert.match(
      textOf(lastUserContent()),
      /\[voice message, transcribed\] heard [0-9a-f]{16} \(\d+ bytes\)$/,
    );
  });
});

describe("with agent.audioInput, voice goes to the agent as input_audio", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  let files: FakeFileHost;
  before(async () => {
    agent = await new FakeAgent().start();
    files = await new FakeFileHost().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        agent: { stream: false, audioInput: true },
        channels: {
          audiochat: { allowFrom: ["a1", "a2"], files: { baseUrl: files.url, token: files.token } },
        },
      },
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
    await files.stop();
  });

  const send = async (senderId: string, attachments: unknown[]) => {
    const res = await fetch(`${gw.url}/audiochat/in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ senderId, text: "what do you hear?", attachments }),
    });
    assert.equal(res.status, 200);
  };
  const settled = () => queuesDrained(gw.gateway.store);
  const audioPart = () =>
    (agent.requests.at(-1)!.body.messages.at(-1)!.content as unknown as FakeContentPart[]).find(
      (p) => p.type === "input_audio",
    );

  it("a WAV goes with its exact bytes", async () => {
    const wav = makeWav({ rate: 16_000, channels: 1, seconds: 0.1, freq: 440 });
    files.add("wav1", wav, "audio/wav");
    await send("a1", [{ kind: "voice", platformId: "wav1" }]);
    await settled();
    assert.deepEqual(audioPart(), {
      type: "input_audio",
      input_audio: { data: wav.toString("base64"), format: "wav" },
    });
  });

  it("an AMR voice note is converted to 16 kHz WAV", { skip: needsFfmpeg }, async () => {
    files.add("amr2", makeAmr(25), "audio/amr");
    await send("a2", [{ kind: "voice", platformId: "amr2" }]);
    await settled();
    const part = audioPart() as Extract<FakeContentPart, { type: "input_audio" }>;
    assert.equal(part.input_audio.format, "wav");
    const wav = parseWav(Buffer.from(part.input_audio.data, "base64"));
    assert.deepEqual([wav.rate, wav.samples.length], [16_000, 8_000], "0.5 s of AMR");
  });
});

describe("a transcription server that refuses the key", () => {
  it("the user is told what to fix at once; the message is neither retried nor lost", async () => {
    const agent = await new FakeAgent().start();
    const files = await new FakeFileHost().start();
    const whisper = await new FakeTranscriptionServer({ apiKey: "sk-right", models: ["whisper-1"] }).start();
    const gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        agent: { stream: false, transcription: { url: whisper.url, apiKey: "sk-wrong" } },
        channels: { extractchat: { allowFrom: ["k1"], files: { baseUrl: files.url, token: files.token } } },
      },
    });
    try {
      files.add("voice-k", oggVoice, "audio/ogg");
      await fetch(`${gw.url}/extractchat/in`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          senderId: "k1",
          text: "",
          attachments: [{ kind: "voice", platformId: "voice-k" }],
        }),
      });
      const note = await waitFor(() =>
        sent.find(
          (s) => s.to.conversationId === "dm-k1" && /could not be turned into text/.test(s.message.text),
        ),
      );
      assert.match(note.message.text, /agent\.transcription\.apiKey/);
      assert.equal(whisper.requests.length, 1, "not retried: a wrong key stays wrong");
      const inbox = await gw.gateway.store.inboxStats();
      assert.equal(inbox.dead + inbox.pending, 0);
    } finally {
      await gw.stop();
      await agent.stop();
      await files.stop();
      await whisper.stop();
    }
  });
});
