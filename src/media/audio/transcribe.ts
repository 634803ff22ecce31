// Voice to text through an OpenAI-compatible /v1/audio/transcriptions endpoint (Whisper and the servers that
// copy its API). The URL is the operator's own setting, not something a chat user chose.
import type { FetchPolicy } from "../../security/url-guard.ts";
import { redactUrl } from "../../security/url-guard.ts";

export class TranscriptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TranscriptionError";
  }
}

const EXTENSION: Record<string, string> = {
  "audio/ogg": "ogg",
  "audio/mpeg": "mp3",
  "audio/mp4": "m4a",
  "audio/wav": "wav",
  "audio/webm": "webm",
  "video/webm": "webm",
  "audio/flac": "flac",
};

export interface TranscribeOptions {
  url: string;
  model: string;
  language?: string;
  apiKey?: string;
  timeoutMs: number;
  policy: FetchPolicy;
}

export async function transcribe(
  audio: { bytes: Buffer; mime: string; name?: string },
  o: TranscribeOptions,
): Promise<string> {
  if (!/^https?:\/\//i.test(o.url))
    throw new TranscriptionError("agent.transcription.url must be an http(s) URL");
  const ext = EXTENSION[audio.mime];
  if (!ext) {
    throw new TranscriptionError(`${audio.mime} audio cannot be sent to a transcription server as it is`);
  }
  const form = new FormData();
  form.set("file", new Blob([new Uint8Array(audio.bytes)], { type: audio.mime }), `audio.${ext}`);
  form.set("model", o.model);
  form.set("response_format", "json");
  if (o.language) form.set("language", o.language);
  let res: Response;
  try {
    res = await fetch(o.url, {
      method: "POST",
      body: form,
      headers: o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {},
      signal: AbortSignal.timeout(o.timeoutMs),
    });
  } catch (err) {
    throw new TranscriptionError(
      `the transcription server at ${redactUrl(o.url)} could not be reached: ${(err as Error).message}. Check agent.transcription.url.`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as { text?: unknown; error?: { message?: string } };
  if (!res.ok || typeof body.text !== "string") {
    throw new TranscriptionError(
      `the transcription server at ${redactUrl(o.url)} answered ${res.status}${body.error?.message ? `: ${body.error.message}` : ""}. Check agent.transcription.url, .model and .apiKey.`,
    );
  }
  return body.text;
}
