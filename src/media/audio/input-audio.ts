// OpenAI's `input_audio` content part (gpt-4o-audio and the models that copy it) takes only WAV or MP3, as base64.
// Voice notes arrive as Ogg Opus, M4A, AMR …: those are converted with ffmpeg, which must then be installed.
import { normalizeMime } from "../content-type.ts";
import { sniffMime } from "../sniff.ts";
import { type ConvertOptions, convertAudio } from "./convert.ts";

/** The input_audio format these bytes already are, from their signature (or the declared type if none). */
export function inputAudioFormat(mime: string, bytes?: Uint8Array): "wav" | "mp3" | undefined {
  const type = (bytes && sniffMime(bytes)) || normalizeMime(mime);
  if (type === "audio/wav" || type === "audio/x-wav" || type === "audio/wave") return "wav";
  if (type === "audio/mpeg" || type === "audio/mp3") return "mp3";
  return undefined;
}

/**
 * The `input_audio` object for these bytes: as they are when already WAV or MP3, otherwise converted to 16 kHz
 * mono WAV (lossless, and what speech models resample to anyway). Throws AudioConversionUnavailableError when a
 * conversion is needed and ffmpeg is missing.
 */
export async function inputAudioPart(
  bytes: Buffer,
  mime: string,
  o: ConvertOptions = {},
): Promise<{ data: string; format: "wav" | "mp3" }> {
  const format = inputAudioFormat(mime, bytes);
  if (format) return { data: bytes.toString("base64"), format };
  const wav = await convertAudio(bytes, "wav", o);
  return { data: wav.toString("base64"), format: "wav" };
}
