// Audio conversion with the ffmpeg program, for the formats a transcription server or an audio-input model does
// not take (AMR and 3GP voice notes from WeChat, Twilio, old phones). ffmpeg is optional: without it only this
// conversion is unavailable, and the error says how to get it.
import { spawn } from "node:child_process";
import { constants } from "node:fs";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { MediaTooLargeError } from "../../core/too-large.ts";

export const INSTALL_FFMPEG =
  "install ffmpeg: apt install ffmpeg, or set CLAWGATE_FFMPEG to the ffmpeg program";

export class AudioConversionUnavailableError extends Error {
  constructor(reason = "ffmpeg was not found on the PATH") {
    super(`converting this audio needs ffmpeg, but ${reason}; ${INSTALL_FFMPEG}`);
    this.name = "AudioConversionUnavailableError";
  }
}

export class AudioConversionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AudioConversionError";
  }
}

export interface ConvertOptions {
  /** Stop ffmpeg after this long (default 60 s). */
  timeoutMs?: number;
  /** Keep at most this much of the audio. */
  maxSeconds?: number;
  /** Largest output accepted (default 100 MB); ffmpeg is stopped when it writes more. */
  maxBytes?: number;
  signal?: AbortSignal;
}

// Keyed by what the lookup depends on, so a changed CLAWGATE_FFMPEG or PATH is seen without a restart.
const found = new Map<string, Promise<string | undefined>>();

const executable = (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

/** The ffmpeg program: CLAWGATE_FFMPEG when set (and executable), else the first `ffmpeg` on the PATH. */
export function findFfmpeg(): Promise<string | undefined> {
  const configured = process.env.CLAWGATE_FFMPEG;
  const path = process.env.PATH ?? "";
  const key = `${configured ?? ""}\0${path}`;
  let lookup = found.get(key);
  if (!lookup) {
    lookup = (async () => {
      if (configured) return (await executable(configured)) ? configured : undefined;
      const names = process.platform === "win32" ? ["ffmpeg.exe"] : ["ffmpeg"];
      for (const dir of path.split(delimiter).filter(Boolean))
        for (const name of names) if (await executable(join(dir, name))) return join(dir, name);
      return undefined;
    })();
    found.set(key, lookup);
  }
  return lookup;
}

const OUTPUT: Record<"wav" | "mp3", string[]> = {
  wav: ["-f", "wav"],
  mp3: ["-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3"],
};

/**
 * The audio track of `bytes` as 16 kHz mono WAV or MP3 — what speech recognition uses, and small. The input
 * goes through a pipe, except MP4-family files (M4A, 3GP, MOV): their index often sits after the audio, which
 * ffmpeg can only reach in a file it can seek in.
 */
export async function convertAudio(
  bytes: Buffer,
  to: "wav" | "mp3",
  o: ConvertOptions = {},
): Promise<Buffer> {
  const ffmpeg = await findFfmpeg();
  if (!ffmpeg) {
    const configured = process.env.CLAWGATE_FFMPEG;
    throw new AudioConversionUnavailableError(
      configured ? `CLAWGATE_FFMPEG (${configured}) is not an executable file` : undefined,
    );
  }
  const seekable = bytes.length >= 8 && bytes.toString("latin1", 4, 8) === "ftyp";
  const dir = seekable ? await mkdtemp(join(tmpdir(), "clawgate-audio-")) : undefined;
  try {
    let input = "pipe:0";
    if (dir) {
      input = join(dir, "input");
      await writeFile(input, bytes);
    }
    // -nostdin: with a file input ffmpeg must not treat stdin as its interactive console.
    const args = [
      "-hide_banner",
      "-loglevel",
      "error",
      ...(dir ? ["-nostdin"] : []),
      "-i",
      input,
      "-vn",
      "-ac",
      "1",
      "-ar",
      "16000",
    ];
    if (o.maxSeconds) args.push("-t", String(o.maxSeconds));
    // No tags: the converted file carries only the audio, not the sender's metadata.
    args.push("-map_metadata", "-1", ...OUTPUT[to], "pipe:1");
    const out = await run(ffmpeg, args, dir ? undefined : bytes, o);
    return to === "wav" ? fixWavSizes(out) : out;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

function run(ffmpeg: string, args: string[], stdin: Buffer | undefined, o: ConvertOptions): Promise<Buffer> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const maxBytes = o.maxBytes ?? 100 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: "pipe" });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = "";
    let stopped: Error | undefined;
    const stop = (why: Error) => {
      stopped ??= why;
      child.kill("SIGKILL");
    };
    const timer = setTimeout(
      () =>
        stop(
          new AudioConversionError(
            `converting the audio took longer than ${timeoutMs / 1000} s and was stopped`,
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => stop(new AudioConversionError("converting the audio was cancelled"));
    o.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (c: Buffer) => {
      size += c.length;
      if (size > maxBytes)
        return stop(
          new MediaTooLargeError(
            `the converted audio is larger than ${Math.round(maxBytes / 1024)} KB`,
            maxBytes,
          ),
        );
      chunks.push(c);
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr = (stderr + c.toString("utf8")).slice(-4000);
    });
    // ffmpeg closes its input early when it stops reading (bad data, the -t limit): its exit status tells why.
    child.stdin.on("error", () => {});
    child.stdin.end(stdin);
    child.on("error", (err: NodeJS.ErrnoException) => {
      stopped ??=
        err.code === "ENOENT" || err.code === "EACCES"
          ? new AudioConversionUnavailableError(`${ffmpeg} could not be started (${err.code})`)
          : err;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      o.signal?.removeEventListener("abort", onAbort);
      if (stopped) return reject(stopped);
      const detail = stderr.trim().split("\n").slice(-3).join("; ");
      if (code !== 0)
        return reject(
          new AudioConversionError(`ffmpeg could not convert the audio: ${detail || `exit ${code}`}`),
        );
      if (size === 0) return reject(new AudioConversionError("ffmpeg found no audio in the file"));
      resolve(Buffer.concat(chunks));
    });
  });
}

/**
 * ffmpeg writing WAV into a pipe cannot go back to fill in the sizes, so it leaves 0xFFFFFFFF there; strict
 * readers (some transcription servers) refuse that. The whole file is in memory, so the real sizes are known.
 */
export function fixWavSizes(wav: Buffer): Buffer {
  if (wav.length < 12 || wav.toString("latin1", 0, 4) !== "RIFF" || wav.toString("latin1", 8, 12) !== "WAVE")
    return wav;
  wav.writeUInt32LE(wav.length - 8, 4);
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString("latin1", at, at + 4);
    if (id === "data") {
      wav.writeUInt32LE(wav.length - at - 8, at + 4);
      break;
    }
    at += 8 + wav.readUInt32LE(at + 4) + (wav.readUInt32LE(at + 4) % 2);
  }
  return wav;
}
