// Voice to text through an OpenAI-compatible /v1/audio/transcriptions endpoint (OpenAI's Whisper and the servers
// that copy its API: faster-whisper-server, LocalAI, whisper.cpp's server). The URL is the operator's own
// setting, not something a chat user chose, so it is fetched directly (a server on localhost is the usual
// case), but only over http(s) and never following a redirect with the audio.
import type { FetchPolicy } from "../../security/url-guard.ts";
import { redactUrl } from "../../security/url-guard.ts";
import { normalizeMime } from "../content-type.ts";
import { sniffMime } from "../sniff.ts";
import { convertAudio } from "./convert.ts";

export class TranscriptionError extends Error {
  /** The server's HTTP status, when it answered. */
  readonly status: number | undefined;
  /** Worth trying again later: the server was down, slow or overloaded, not refusing this request. */
  readonly retryable: boolean;
  constructor(message: string, o: { status?: number; retryable?: boolean } = {}) {
    super(message);
    this.name = "TranscriptionError";
    this.status = o.status;
    this.retryable = o.retryable ?? false;
  }
}

export interface TranscribeOptions {
  /** The endpoint; a base URL ending in /v1 (or a bare origin) gets /v1/audio/transcriptions added. */
  url: string;
  model: string;
  language?: string;
  apiKey?: string;
  timeoutMs: number;
  /** Not applied: the URL is the operator's configuration, not a chat user's. Kept so callers pass one shape. */
  policy: FetchPolicy;
}

/** The formats OpenAI's endpoint takes, by the file name extension it checks. */
const ACCEPTED: Record<string, string> = {
  "audio/flac": "flac",
  "audio/x-flac": "flac",
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/mp4": "m4a",
  "audio/m4a": "m4a",
  "audio/x-m4a": "m4a",
  "video/mp4": "mp4",
  "audio/ogg": "ogg",
  "audio/opus": "ogg",
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/vnd.wave": "wav",
  "audio/webm": "webm",
  "video/webm": "webm",
};

/** The endpoint to POST to: operators often paste the base URL they use for chat (…/v1). */
export function transcriptionEndpoint(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TranscriptionError(`agent.transcription.url is not a valid URL: ${redactUrl(url)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new TranscriptionError(`agent.transcription.url must be an http or https URL, not ${u.protocol}`);
  const path = u.pathname.replace(/\/+$/, "");
  if (path === "") u.pathname = "/v1/audio/transcriptions";
  else if (/\/v1$/.test(path)) u.pathname = `${path}/audio/transcriptions`;
  return u;
}

/**
 * The spoken text of a voice message or audio file. Formats the endpoint takes go as they are, named with the
 * extension it checks; others (AMR, 3GP, AAC …) are converted to WAV with ffmpeg first, which throws
 * AudioConversionUnavailableError when ffmpeg is missing.
 */
export async function transcribe(
  audio: { bytes: Buffer; mime: string; name?: string },
  o: TranscribeOptions,
): Promise<string> {
  const endpoint = transcriptionEndpoint(o.url);
  const where = redactUrl(endpoint.href);
  const type = sniffMime(audio.bytes) ?? normalizeMime(audio.mime);
  let ext = ACCEPTED[type];
  let bytes = audio.bytes;
  let mime = type;
  if (!ext) {
    bytes = await convertAudio(audio.bytes, "wav", { timeoutMs: o.timeoutMs });
    ext = "wav";
    mime = "audio/wav";
  }
  const form = new FormData();
  form.set("file", new Blob([new Uint8Array(bytes)], { type: mime }), `${stem(audio.name)}.${ext}`);
  form.set("model", o.model);
  if (o.language) form.set("language", o.language);
  form.set("response_format", "json");

  let res: Response;
  try {
    res = await fetch(endpoint, {
      method: "POST",
      body: form,
      headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {},
      redirect: "error",
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (err) {
    throw unreachable(err, where, o.timeoutMs);
  }
  let raw: string;
  try {
    raw = await res.text();
  } catch (err) {
    throw unreachable(err, where, o.timeoutMs);
  }
  const body = parseJson(raw);
  if (!res.ok) throw refused(res.status, body, raw, where, o.model);
  if (typeof body?.text !== "string") {
    throw new TranscriptionError(
      `the transcription server at ${where} answered without a "text" field (${raw.slice(0, 120) || "an empty body"}); ` +
        "check that agent.transcription.url is an OpenAI-compatible /v1/audio/transcriptions endpoint",
    );
  }
  return body.text.trim();
}

/** The original name without its extension (the extension must match the bytes that go), or "audio". */
function stem(name: string | undefined): string {
  const base = (name ?? "").split(/[\\/]/).pop() ?? "";
  const dot = base.lastIndexOf(".");
  const s = (dot > 0 ? base.slice(0, dot) : base).replace(/[^\p{L}\p{N}._-]+/gu, "_").slice(0, 60);
  return s || "audio";
}

interface ServerBody {
  text?: unknown;
  error?: { message?: unknown } | string;
  detail?: unknown;
}

function parseJson(raw: string): ServerBody | undefined {
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === "object" ? (v as ServerBody) : undefined;
  } catch {
    return undefined;
  }
}

function refused(status: number, body: ServerBody | undefined, raw: string, where: string, model: string) {
  // OpenAI: {error:{message}}; FastAPI-based servers: {detail}; others: plain text.
  const e = body?.error;
  const detail = body?.detail;
  const message =
    (typeof e === "object" && typeof e?.message === "string" && e.message) ||
    (typeof e === "string" && e) ||
    (typeof detail === "string" && detail) ||
    (detail ? JSON.stringify(detail).slice(0, 300) : "") ||
    raw.trim().slice(0, 300);
  const check =
    status === 401 || status === 403
      ? "check agent.transcription.apiKey (the API key the server expects)"
      : status === 404
        ? `check agent.transcription.url (it should end in /v1/audio/transcriptions) and agent.transcription.model ("${model}")`
        : status === 413
          ? "the audio is larger than the server takes"
          : status === 429 || status >= 500
            ? "the server is busy or failing; it will be tried again"
            : `check agent.transcription.url and agent.transcription.model ("${model}")`;
  return new TranscriptionError(
    `the transcription server at ${where} answered ${status}${message ? `: ${message}` : ""}; ${check}`,
    { status, retryable: status === 408 || status === 429 || status >= 500 },
  );
}

function unreachable(err: unknown, where: string, timeoutMs: number): TranscriptionError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") {
    return new TranscriptionError(
      `the transcription server at ${where} did not answer within ${timeoutMs / 1000} s; check that it is running, ` +
        "or raise agent.transcription.timeoutMs for long recordings",
      { retryable: true },
    );
  }
  const reason = e.cause?.code ?? e.cause?.message ?? e.message;
  if (/redirect/i.test(e.cause?.message ?? "")) {
    return new TranscriptionError(
      `the transcription server at ${where} answered with a redirect, which is not followed with the audio; ` +
        "set agent.transcription.url to the address it redirects to",
    );
  }
  return new TranscriptionError(
    `could not reach the transcription server at ${where} (${reason}); check agent.transcription.url and that the server is running`,
    { retryable: true },
  );
}
