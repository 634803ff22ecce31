// Real audio for tests, made without fixtures: PCM WAV written byte by byte, AMR-NB frames as the format
// specifies them, and other formats (Ogg Opus, M4A) encoded by the ffmpeg the tests convert with.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A 16-bit PCM WAV holding a sine tone. */
export function makeWav(o: { rate: number; channels: number; seconds: number; freq: number }): Buffer {
  const frames = Math.round(o.rate * o.seconds);
  const data = Buffer.alloc(frames * o.channels * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * o.freq * i) / o.rate) * 12_000);
    for (let c = 0; c < o.channels; c++) data.writeInt16LE(v, (i * o.channels + c) * 2);
  }
  const h = Buffer.alloc(44);
  h.write("RIFF", 0, "latin1");
  h.writeUInt32LE(36 + data.length, 4);
  h.write("WAVEfmt ", 8, "latin1");
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(o.channels, 22);
  h.writeUInt32LE(o.rate, 24);
  h.writeUInt32LE(o.rate * o.channels * 2, 28);
  h.writeUInt16LE(o.channels * 2, 32);
  h.writeUInt16LE(16, 34);
  h.write("data", 36, "latin1");
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

export interface WavInfo {
  format: number;
  channels: number;
  rate: number;
  bits: number;
  riffSize: number;
  dataSize: number;
  /** The first channel's samples. */
  samples: Int16Array;
}

/** Reads a WAV's chunks the way a strict reader does: every size must be consistent with the file. */
export function parseWav(wav: Buffer): WavInfo {
  if (wav.toString("latin1", 0, 4) !== "RIFF" || wav.toString("latin1", 8, 12) !== "WAVE")
    throw new Error("not a WAV");
  let fmt: Omit<WavInfo, "riffSize" | "dataSize" | "samples"> | undefined;
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString("latin1", at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === "fmt ") {
      fmt = {
        format: wav.readUInt16LE(at + 8),
        channels: wav.readUInt16LE(at + 10),
        rate: wav.readUInt32LE(at + 12),
        bits: wav.readUInt16LE(at + 22),
      };
    }
    if (id === "data") {
      if (!fmt) throw new Error("data before fmt");
      const body = wav.subarray(at + 8, at + 8 + size);
      const samples = new Int16Array(Math.floor(body.length / 2 / fmt.channels));
      for (let i = 0; i < samples.length; i++) samples[i] = body.readInt16LE(i * 2 * fmt.channels);
      return { ...fmt, riffSize: wav.readUInt32LE(4), dataSize: size, samples };
    }
    at += 8 + size + (size % 2);
  }
  throw new Error("no data chunk");
}

/**
 * The frequency of a tone, from its zero crossings between the first and the last one (so codec padding and
 * quiet noise around zero do not count): survives resampling and lossy coding.
 */
export function toneFrequency(samples: Int16Array, rate: number): number {
  const threshold = 1000;
  let sign = 0;
  let first = -1;
  let last = -1;
  let crossings = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]! > threshold ? 1 : samples[i]! < -threshold ? -1 : 0;
    if (s === 0 || s === sign) continue;
    if (sign !== 0) {
      crossings++;
      if (first < 0) first = i;
      last = i;
    }
    sign = s;
  }
  return crossings < 2 ? 0 : (crossings - 1) / 2 / ((last - first) / rate);
}

/** AMR-NB (the WeChat and old-phone voice format): the magic line, then 20 ms frames of mode 7 (12.2 kbit/s). */
export function makeAmr(frames: number): Buffer {
  const out = [Buffer.from("#!AMR\n", "latin1")];
  let seed = 7;
  for (let f = 0; f < frames; f++) {
    const frame = Buffer.alloc(32);
    frame[0] = 0x3c; // frame type 7, quality bit set
    for (let i = 1; i < 32; i++) frame[i] = seed = (seed * 1103515245 + 12345) & 0xff;
    out.push(frame);
  }
  return Buffer.concat(out);
}

/** Encodes audio with ffmpeg through real files (so an MP4's index lands at the end, as phones write it). */
export async function encodeWith(
  ffmpeg: string,
  input: Buffer,
  ext: string,
  args: string[],
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "clawgate-test-audio-"));
  try {
    await writeFile(join(dir, "in.wav"), input);
    const out = join(dir, `out.${ext}`);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(ffmpeg, [
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        join(dir, "in.wav"),
        ...args,
        out,
      ]);
      let err = "";
      child.stderr.on("data", (c) => {
        err += c;
      });
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg: ${err}`))));
    });
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
