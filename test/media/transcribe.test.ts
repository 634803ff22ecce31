// Voice reaches an OpenAI-compatible transcription server exactly: the same bytes, named with the extension the
// server checks, with the model and language the operator set; formats it does not take are converted first;
// and every refusal names what to fix.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { findFfmpeg } from "../../src/media/audio/convert.ts";
import { inputAudioFormat, inputAudioPart } from "../../src/media/audio/input-audio.ts";
import { type TranscribeOptions, transcribe } from "../../src/media/audio/transcribe.ts";
import { FakeTranscriptionServer, heardText } from "../fakes/transcription.ts";
import { makeAmr, makeWav, parseWav } from "../helpers/audio.ts";
import { UNREACHABLE_AGENT_URL } from "../helpers/unreachable.ts";

const ffmpeg = await findFfmpeg();
const needsFfmpeg =
  !ffmpeg && !process.env.CI ? "ffmpeg is not installed (bash .ci/prepare-services installs it)" : false;

const server = new FakeTranscriptionServer({ apiKey: "sk-test-0123456789", models: ["whisper-1"] });
before(() => server.start());
after(() => server.stop());

const opts = (over: Partial<TranscribeOptions> = {}): TranscribeOptions => ({
  url: server.url,
  model: "whisper-1",
  apiKey: "sk-test-0123456789",
  timeoutMs: 20_000,
  policy: { allowPrivate: false, allowHosts: [] },
  ...over,
});

/** Ogg Opus as Telegram and WhatsApp send voice: the first page's header, then (for the fake) any payload. */
const oggVoice = Buffer.concat([
  Buffer.from("OggS\0\x02", "latin1"),
  Buffer.alloc(20),
  Buffer.from("\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0", "latin1"),
  Buffer.from("voice payload 1"),
]);

test("a WAV goes as it is: exact bytes, its name, the model, json, and the registered transcript comes back", async () => {
  const wav = makeWav({ rate: 16_000, channels: 1, seconds: 0.25, freq: 440 });
  server.say(wav, "Hello from the test.");
  const before = server.requests.length;
  const text = await transcribe({ bytes: wav, mime: "audio/wav", name: "note.wav" }, opts());
  assert.equal(text, "Hello from the test.");
  const req = server.requests[before]!;
  assert.deepEqual(req.fields, { model: "whisper-1", response_format: "json" });
  assert.deepEqual(req.file, { name: "note.wav", type: "audio/wav", bytes: wav });
  assert.equal(req.headers.authorization, "Bearer sk-test-0123456789");
});

test("a Telegram voice note (.oga, declared octet-stream) goes as Ogg with the language hint", async () => {
  const before = server.requests.length;
  const text = await transcribe(
    { bytes: oggVoice, mime: "application/octet-stream", name: "voice/file_12.oga" },
    opts({ language: "de" }),
  );
  assert.equal(text, heardText(oggVoice));
  const req = server.requests[before]!;
  assert.equal(req.fields.language, "de");
  assert.deepEqual(req.file, { name: "file_12.ogg", type: "audio/ogg", bytes: oggVoice });
});

test("a base URL ending in /v1 reaches the transcription endpoint", async () => {
  const text = await transcribe({ bytes: oggVoice, mime: "audio/ogg" }, opts({ url: `${server.base}/v1/` }));
  assert.equal(text, heardText(oggVoice));
  assert.equal(server.requests.at(-1)!.file!.name, "audio.ogg");
});

test("a wrong API key is reported with the server's message and the setting to fix", async () => {
  await assert.rejects(
    transcribe({ bytes: oggVoice, mime: "audio/ogg" }, opts({ apiKey: "sk-wrong-key-999" })),
    {
      name: "TranscriptionError",
      status: 401,
      retryable: false,
      message: new RegExp(
        "^the transcription server at http://127\\.0\\.0\\.1:\\d+/v1/audio/transcriptions answered 401: " +
          "Incorrect API key provided: sk-\\*+-999\\. .*; check agent\\.transcription\\.apiKey",
      ),
    },
  );
  assert.equal(
    server.requests.at(-1)!.headers.authorization,
    "Bearer sk-wrong-key-999",
    "the key that was set went",
  );
  const { apiKey: _, ...noKey } = opts();
  await assert.rejects(transcribe({ bytes: oggVoice, mime: "audio/ogg" }, noKey), {
    message: /answered 401: You didn't provide an API key\..*check agent\.transcription\.apiKey/,
  });
});

test("an unknown model names the model and the URL to check", async () => {
  await assert.rejects(transcribe({ bytes: oggVoice, mime: "audio/ogg" }, opts({ model: "whisper-9" })), {
    status: 404,
    message:
      /answered 404: The model `whisper-9` does not exist.*check agent\.transcription\.url .* and agent\.transcription\.model \("whisper-9"\)/,
  });
});

test("bytes the server cannot read come back as its own 'Invalid file format' message", async () => {
  await assert.rejects(
    transcribe(
      { bytes: Buffer.from("definitely not an mp3 file"), mime: "audio/mpeg", name: "x.mp3" },
      opts(),
    ),
    {
      status: 400,
      message:
        /answered 400: Invalid file format\. Supported formats: \['flac', 'm4a', 'mp3', 'mp4', 'mpeg', 'mpga', 'oga', 'ogg', 'wav', 'webm'\]; check agent\.transcription\.url and agent\.transcription\.model/,
    },
  );
});

test("AMR (WeChat, old phones) is converted to 16 kHz WAV first, and that WAV is what arrives", {
  skip: needsFfmpeg,
}, async () => {
  const before = server.requests.length;
  const text = await transcribe({ bytes: makeAmr(50), mime: "audio/amr", name: "msg.amr" }, opts());
  const req = server.requests[before]!;
  assert.equal(req.file!.name, "msg.wav");
  assert.equal(req.file!.type, "audio/wav");
  const wav = parseWav(req.file!.bytes);
  assert.deepEqual(
    [wav.rate, wav.channels, wav.samples.length],
    [16_000, 1, 16_000],
    "one second of 16 kHz mono",
  );
  assert.equal(text, heardText(req.file!.bytes));
});

test("without ffmpeg, AMR fails with what to install and nothing is sent", async () => {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-no-ffmpeg-"));
  const saved = process.env.CLAWGATE_FFMPEG;
  process.env.CLAWGATE_FFMPEG = join(dir, "ffmpeg");
  const before = server.requests.length;
  try {
    await assert.rejects(transcribe({ bytes: makeAmr(5), mime: "audio/amr" }, opts()), {
      name: "AudioConversionUnavailableError",
      message: /install ffmpeg: apt install ffmpeg, or set CLAWGATE_FFMPEG/,
    });
    await assert.rejects(inputAudioPart(oggVoice, "audio/ogg"), { name: "AudioConversionUnavailableError" });
  } finally {
    if (saved === undefined) delete process.env.CLAWGATE_FFMPEG;
    else process.env.CLAWGATE_FFMPEG = saved;
    await rm(dir, { recursive: true, force: true });
  }
  assert.equal(server.requests.length, before);
});

test("a server error is retryable and says so", async () => {
  server.options.failNext = { count: 1, status: 503, body: { error: { message: "model is loading" } } };
  await assert.rejects(transcribe({ bytes: oggVoice, mime: "audio/ogg" }, opts()), {
    status: 503,
    retryable: true,
    message: /answered 503: model is loading; the server is busy or failing; it will be tried again$/,
  });
});

test("only http and https URLs are used", async () => {
  for (const url of ["ftp://127.0.0.1/v1/audio/transcriptions", "file:///etc/passwd", "not a url"]) {
    await assert.rejects(transcribe({ bytes: oggVoice, mime: "audio/ogg" }, opts({ url })), {
      name: "TranscriptionError",
      message: /^agent\.transcription\.url (must be an http or https URL|is not a valid URL)/,
    });
  }
});

test("a server that does not answer in time, or is not there, gives a clear message", async () => {
  const stuck = await new FakeTranscriptionServer({ hang: true }).start();
  try {
    await assert.rejects(
      transcribe({ bytes: oggVoice, mime: "audio/ogg" }, opts({ url: stuck.url, timeoutMs: 300 })),
      {
        retryable: true,
        message: `the transcription server at ${stuck.url} did not answer within 0.3 s; check that it is running, or raise agent.transcription.timeoutMs for long recordings`,
      },
    );
  } finally {
    await stuck.stop();
  }
  const url = UNREACHABLE_AGENT_URL.replace("/chat/completions", "/audio/transcriptions");
  await assert.rejects(transcribe({ bytes: oggVoice, mime: "audio/ogg" }, opts({ url })), {
    retryable: true,
    message: `could not reach the transcription server at ${url} (ECONNREFUSED); check agent.transcription.url and that the server is running`,
  });
});

test("input_audio takes WAV and MP3 as they are and converts the rest to WAV", {
  skip: needsFfmpeg,
}, async () => {
  const wav = makeWav({ rate: 8_000, channels: 1, seconds: 0.1, freq: 300 });
  assert.deepEqual(await inputAudioPart(wav, "application/octet-stream"), {
    data: wav.toString("base64"),
    format: "wav",
  });
  const mp3 = Buffer.from([0xff, 0xfb, 0x90, 0x64, ...new Array(40).fill(0)]);
  assert.equal(inputAudioFormat("audio/mpeg", mp3), "mp3");
  const part = await inputAudioPart(makeAmr(10), "audio/amr");
  assert.equal(part.format, "wav");
  const info = parseWav(Buffer.from(part.data, "base64"));
  assert.deepEqual([info.rate, info.samples.length], [16_000, 3_200], "0.2 s of AMR as 16 kHz WAV");
});
