// Conversion with the real ffmpeg (.ci/prepare-services installs it; on a machine without it these tests are
// skipped outside CI): the audio that comes out is the audio that went in (same tone, same length), in the
// exact format asked for; and every way it can fail says what happened and what to do.
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { AudioConversionUnavailableError, convertAudio, findFfmpeg } from "../../src/media/audio/convert.ts";
import { sniffMime } from "../../src/media/sniff.ts";
import { encodeWith, makeAmr, makeWav, parseWav, toneFrequency } from "../helpers/audio.ts";

const ffmpeg = await findFfmpeg();
const skip =
  !ffmpeg && !process.env.CI ? "ffmpeg is not installed (bash .ci/prepare-services installs it)" : false;
const scratch = await mkdtemp(join(tmpdir(), "clawgate-convert-test-"));
after(() => rm(scratch, { recursive: true, force: true }));

/** Runs `fn` with environment variables set, restoring them afterwards. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v))
      if (x === undefined) delete process.env[k];
      else process.env[k] = x;
  };
  set(vars);
  try {
    return await fn();
  } finally {
    set(saved);
  }
}

/** The WAV's tone and length, after checking it is the 16 kHz mono 16-bit PCM speech servers expect. */
function speechWav(wav: Buffer): { seconds: number; hz: number } {
  const info = parseWav(wav);
  assert.deepEqual(
    { format: info.format, channels: info.channels, rate: info.rate, bits: info.bits },
    { format: 1, channels: 1, rate: 16_000, bits: 16 },
  );
  assert.equal(info.riffSize, wav.length - 8, "RIFF size is the real one, not ffmpeg's 0xFFFFFFFF");
  assert.equal(info.samples.length * 2, info.dataSize);
  assert.ok(wav.length - info.dataSize <= 200, "the data chunk runs to the end of the file");
  return { seconds: info.samples.length / 16_000, hz: toneFrequency(info.samples, 16_000) };
}

const near = (got: number, want: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(got - want) <= tolerance, `${what}: got ${got}, want ${want} ± ${tolerance}`);

test("a stereo 44.1 kHz WAV becomes 16 kHz mono with the same tone and length", { skip }, async () => {
  const input = makeWav({ rate: 44_100, channels: 2, seconds: 1.5, freq: 440 });
  const { seconds, hz } = speechWav(await convertAudio(input, "wav"));
  near(seconds, 1.5, 0.002, "length");
  near(hz, 440, 5, "tone");
});

test("WAV to MP3 and back keeps the tone and the length", { skip }, async () => {
  const mp3 = await convertAudio(makeWav({ rate: 8_000, channels: 1, seconds: 2, freq: 300 }), "mp3");
  assert.equal(sniffMime(mp3), "audio/mpeg");
  const { seconds, hz } = speechWav(await convertAudio(mp3, "wav"));
  near(seconds, 2, 0.1, "length (MP3 adds encoder padding)");
  near(hz, 300, 5, "tone");
});

test("an AMR voice note (WeChat, old phones) becomes WAV: 25 frames of 20 ms are 0.5 s", {
  skip,
}, async () => {
  const { seconds } = speechWav(await convertAudio(makeAmr(25), "wav"));
  assert.equal(seconds, 0.5);
});

test("Ogg Opus and an M4A whose index sits after the audio both convert", { skip }, async () => {
  const tone = makeWav({ rate: 48_000, channels: 1, seconds: 20, freq: 500 });
  const ogg = await encodeWith(ffmpeg!, tone, "ogg", ["-c:a", "libopus", "-b:a", "24k"]);
  const m4a = await encodeWith(ffmpeg!, tone, "m4a", ["-c:a", "aac", "-b:a", "64k"]);
  assert.ok(
    m4a.indexOf("moov") > m4a.indexOf("mdat"),
    "the M4A has its index at the end, as phones write it",
  );
  for (const [what, bytes] of [
    ["ogg", ogg],
    ["m4a", m4a],
  ] as const) {
    const { seconds, hz } = speechWav(await convertAudio(bytes, "wav"));
    near(seconds, 20, 0.1, `${what} length`);
    near(hz, 500, 5, `${what} tone`);
  }
});

test("maxSeconds keeps only the start of a long recording", { skip }, async () => {
  const input = makeWav({ rate: 16_000, channels: 1, seconds: 3, freq: 200 });
  const { seconds } = speechWav(await convertAudio(input, "wav", { maxSeconds: 1 }));
  assert.equal(seconds, 1);
});

test("output over maxBytes stops ffmpeg with a too-large error", { skip }, async () => {
  const input = makeWav({ rate: 16_000, channels: 1, seconds: 3, freq: 200 });
  await assert.rejects(convertAudio(input, "wav", { maxBytes: 10_000 }), {
    name: "MediaTooLargeError",
    message: "the converted audio is larger than 10 KB",
  });
});

test("bytes that are not audio give ffmpeg's reason", { skip }, async () => {
  await assert.rejects(convertAudio(Buffer.from("this is not audio at all, just words"), "wav"), {
    name: "AudioConversionError",
    message: /^ffmpeg could not convert the audio: .*(Invalid data|could not find codec|Invalid argument)/i,
  });
});

test("without ffmpeg the error says exactly what to install", async () => {
  const empty = await mkdtemp(join(scratch, "path-"));
  await withEnv({ CLAWGATE_FFMPEG: undefined, PATH: empty }, async () => {
    assert.equal(await findFfmpeg(), undefined);
    await assert.rejects(convertAudio(makeAmr(1), "wav"), (err: Error) => {
      assert.ok(err instanceof AudioConversionUnavailableError);
      assert.match(err.message, /install ffmpeg: apt install ffmpeg, or set CLAWGATE_FFMPEG/);
      return true;
    });
  });
  await withEnv({ CLAWGATE_FFMPEG: join(scratch, "no-such-ffmpeg") }, async () => {
    await assert.rejects(convertAudio(makeAmr(1), "wav"), {
      name: "AudioConversionUnavailableError",
      message: `converting this audio needs ffmpeg, but CLAWGATE_FFMPEG (${join(scratch, "no-such-ffmpeg")}) is not an executable file; install ffmpeg: apt install ffmpeg, or set CLAWGATE_FFMPEG to the ffmpeg program`,
    });
  });
});

test("CLAWGATE_FFMPEG names the program, and one that hangs is stopped at the timeout", async () => {
  const hanging = join(scratch, "hanging-ffmpeg");
  await writeFile(hanging, "#!/bin/sh\nexec sleep 600\n");
  await chmod(hanging, 0o755);
  await withEnv({ CLAWGATE_FFMPEG: hanging }, async () => {
    assert.equal(await findFfmpeg(), hanging);
    await assert.rejects(convertAudio(makeAmr(1), "wav", { timeoutMs: 300 }), {
      name: "AudioConversionError",
      message: "converting the audio took longer than 0.3 s and was stopped",
    });
  });
});
