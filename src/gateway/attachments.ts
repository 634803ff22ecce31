// What a message carries besides its text, made into something the agent can take, in the inbox worker (never
// in a webhook's ack path): each attachment is fetched from its platform through the channel adapter within the
// limit for its kind, typed from its bytes (not from what the platform claims), kept in the media store so later
// turns still see it, and turned into a MessagePart: pictures as images, voice as a transcript, text files and
// PDFs as their text, places and contacts as text. What cannot be passed on gets a note for the user instead of
// failing the message; a download that fails for a passing reason throws, so the inbox retries the message.
import type { Logger } from "pino";
import { AttachmentUnavailableError } from "../channels/sdk/download.ts";
import type { ChannelAdapter } from "../channels/types.ts";
import type { Config } from "../config/schema.ts";
import type { Attachment, InboundEvent } from "../core/event.ts";
import { MediaTooLargeError } from "../core/too-large.ts";
import { AudioConversionError, AudioConversionUnavailableError } from "../media/audio/convert.ts";
import { inputAudioPart } from "../media/audio/input-audio.ts";
import { TranscriptionError, transcribe } from "../media/audio/transcribe.ts";
import { isImage } from "../media/content-type.ts";
import { PdfReadError, textOfFile } from "../media/extract/text.ts";
import { isTextLike, sniffMime } from "../media/sniff.ts";
import type { MediaStore } from "../media/store.ts";
import { fetchPolicyFromConfig } from "../security/url-guard.ts";
import type { MessagePart } from "../store/types.ts";
import type { KeptFile } from "./history-parts.ts";

export interface PreparedInput {
  parts: MessagePart[];
  /** The files just stored for these parts, by media id, so this turn sends them without reading them back. */
  fresh: Map<string, KeptFile>;
  /** Said to the user before the answer: what was not passed on, and why. */
  notices: string[];
}

const MB = 1024 * 1024;
/** Kinds a chat model takes as pictures (an animated GIF goes as its first frame; servers accept it). */
const AGENT_IMAGES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif"]);

const NOUN: Record<Attachment["kind"], string> = {
  image: "picture",
  audio: "audio file",
  voice: "voice message",
  video: "video",
  file: "file",
  sticker: "sticker",
  location: "location",
  contact: "contact",
};

export class InboundMedia {
  readonly #config: Config;
  readonly #files: MediaStore;
  readonly #log: Logger;

  constructor(config: Config, files: MediaStore, log: Logger) {
    this.#config = config;
    this.#files = files;
    this.#log = log;
  }

  /** The byte limit for one attachment of this kind (media.inbound.*). */
  limitFor(kind: Attachment["kind"]): number {
    const m = this.#config.media.inbound;
    if (kind === "image" || kind === "sticker") return Math.floor(m.maxImageMb * MB);
    if (kind === "audio" || kind === "voice") return Math.floor(m.maxAudioMb * MB);
    if (kind === "video") return Math.floor(m.maxVideoMb * MB);
    return Math.floor(m.maxFileMb * MB);
  }

  async prepare(
    event: InboundEvent,
    adapter: ChannelAdapter,
    owner: string,
    signal: AbortSignal,
  ): Promise<PreparedInput> {
    const out: PreparedInput = { parts: [], notices: [], fresh: new Map() };
    const max = this.#config.media.inbound.maxPerMessage;
    const list = event.attachments.slice(0, max);
    if (event.attachments.length > max) {
      out.notices.push(
        `Only the first ${max} of your ${event.attachments.length} attachments were passed on (media.inbound.maxPerMessage).`,
      );
    }
    for (const a of list) {
      const inline = inlineText(a);
      if (inline !== undefined) {
        out.parts.push({ type: "text", text: inline });
        continue;
      }
      await this.#one(a, event, adapter, owner, signal, out);
    }
    return out;
  }

  async #one(
    a: Attachment,
    event: InboundEvent,
    adapter: ChannelAdapter,
    owner: string,
    signal: AbortSignal,
    out: PreparedInput,
  ): Promise<void> {
    const noun = a.name ? `${NOUN[a.kind]} "${a.name}"` : `the ${NOUN[a.kind]}`;
    // Text the platform already made of a voice message is enough: nothing to fetch or transcribe.
    if (a.transcript?.trim()) {
      // WeChat sends its recognition as the message text too: said once, not twice.
      if (a.transcript.trim() !== event.text.trim()) {
        out.parts.push({ type: "text", text: `[${NOUN[a.kind]}, transcribed] ${a.transcript.trim()}` });
      }
      return;
    }
    if (a.kind === "video") {
      out.notices.push(`Videos are not passed on to the agent; ${noun} was left out.`);
      return;
    }
    if (!adapter.capabilities.downloads || !adapter.fetchAttachment) {
      out.notices.push(`${cap(noun)} could not be read: this channel does not download attachments.`);
      return;
    }
    const limit = this.limitFor(a.kind);
    if (a.size !== undefined && a.size > limit) {
      out.notices.push(tooLarge(noun, a.size, limit));
      return;
    }
    let fetched: Awaited<ReturnType<NonNullable<ChannelAdapter["fetchAttachment"]>>>;
    try {
      fetched = await adapter.fetchAttachment(a, { maxBytes: limit, signal });
    } catch (err) {
      if (err instanceof MediaTooLargeError) {
        // The platform's own limit may be the lower one (Telegram serves bots files up to 20 MB).
        out.notices.push(tooLarge(noun, a.size, err.limit > 0 ? Math.min(err.limit, limit) : limit));
        return;
      }
      if (err instanceof AttachmentUnavailableError) {
        // The channel's reason says what to do (an expired file, a missing files:read scope): the user can pass
        // it on to whoever runs the gateway.
        this.#log.warn({ event: event.id, err: err.message }, "attachment unavailable");
        out.notices.push(`${cap(noun)} could not be downloaded from ${event.channel}: ${err.message}`);
        return;
      }
      throw err;
    }
    const bytes = fetched.bytes;
    const mime =
      sniffMime(bytes) ?? (isTextLike(bytes, fetched.mime ?? a.mime, a.name) ? "text/plain" : undefined);
    const name = a.name ?? fetched.name;
    const expiresAtSec = Math.floor(Date.now() / 1000 + this.#config.media.inbound.keepDays * 86_400);
    if (mime && AGENT_IMAGES.has(mime) && a.kind !== "audio" && a.kind !== "voice") {
      const mediaId = await this.#files.save(bytes, { mime, owner, name, expiresAtSec });
      out.parts.push({ type: "image", mediaId, mime, ...(name ? { name } : {}) });
      out.fresh.set(mediaId, { id: mediaId, owner, mime, bytes });
      return;
    }
    if (a.kind === "sticker") {
      // An animated sticker (Lottie, video) is no picture a model takes: its emoji says what it meant.
      out.parts.push({ type: "text", text: a.alt ? `[sticker] ${a.alt}` : "[sticker]" });
      return;
    }
    if (mime && isImage(mime)) {
      out.notices.push(`${cap(noun)} is a ${mime} picture, which the agent cannot take; send a JPEG or PNG.`);
      return;
    }
    if (mime?.startsWith("audio/") || a.kind === "voice" || a.kind === "audio") {
      await this.#audio(
        bytes,
        mime ?? a.mime ?? "application/octet-stream",
        name,
        noun,
        owner,
        expiresAtSec,
        out,
      );
      return;
    }
    const text = await textOfFile(bytes, {
      mime: mime ?? fetched.mime ?? a.mime ?? "application/octet-stream",
      ...(name ? { name } : {}),
      maxChars: this.#config.media.inbound.maxTextChars,
    }).catch((err: Error) => {
      // A PdfReadError already names the file and says what is wrong with it.
      out.notices.push(
        err instanceof PdfReadError ? cap(err.message) : `${cap(noun)} could not be read: ${err.message}`,
      );
      return null;
    });
    if (text === null) return;
    if (text === undefined) {
      out.notices.push(
        `${cap(noun)} (${mime ?? "unknown type"}) is not something the agent can read; it was left out.`,
      );
      return;
    }
    if (!text.text.trim()) {
      out.notices.push(`${cap(noun)} has no text to read (a scanned PDF has only pictures of its pages).`);
      return;
    }
    const label = name ? `file "${name}"` : "attached file";
    out.parts.push({
      type: "text",
      text: `[${label}]\n${text.text}${text.truncated ? "\n[… cut here]" : ""}`,
    });
    if (text.truncated) {
      out.notices.push(
        `${cap(noun)} is long; only its first ${this.#config.media.inbound.maxTextChars} characters were passed on.`,
      );
    }
  }

  async #audio(
    bytes: Buffer,
    mime: string,
    name: string | undefined,
    noun: string,
    owner: string,
    expiresAtSec: number,
    out: PreparedInput,
  ): Promise<void> {
    try {
      await this.#audioOrTranscript(bytes, mime, name, noun, owner, expiresAtSec, out);
    } catch (err) {
      // What retrying cannot fix (a refused key, no ffmpeg for this format) is said to the user; a server
      // that is down or slow throws on, and the inbox tries the message again later.
      const final =
        err instanceof AudioConversionUnavailableError ||
        err instanceof AudioConversionError ||
        (err instanceof TranscriptionError && !err.retryable);
      if (!final) throw err;
      this.#log.warn({ err: (err as Error).message }, "voice not passed on");
      out.notices.push(`${cap(noun)} could not be turned into text: ${(err as Error).message}`);
    }
  }

  async #audioOrTranscript(
    bytes: Buffer,
    mime: string,
    name: string | undefined,
    noun: string,
    owner: string,
    expiresAtSec: number,
    out: PreparedInput,
  ): Promise<void> {
    const agent = this.#config.agent;
    if (agent.audioInput) {
      // Converted once, on arrival: history re-sends it on later turns as it is (input_audio takes wav or mp3).
      const part = await inputAudioPart(bytes, mime);
      const stored = { mime: part.format === "wav" ? "audio/wav" : "audio/mpeg", ...(name ? { name } : {}) };
      const mediaId = await this.#files.save(Buffer.from(part.data, "base64"), {
        ...stored,
        owner,
        expiresAtSec,
      });
      out.parts.push({ type: "audio", mediaId, ...stored });
      return;
    }
    const t = agent.transcription;
    if (!t.url) {
      out.notices.push(
        `${cap(noun)} was not passed on: voice needs a transcription server (agent.transcription.url, see docs/media.md).`,
      );
      return;
    }
    const text = await transcribe(
      { bytes, mime, ...(name ? { name } : {}) },
      {
        url: t.url,
        model: t.model,
        ...(t.language ? { language: t.language } : {}),
        ...(t.apiKey ? { apiKey: t.apiKey } : {}),
        timeoutMs: t.timeoutMs,
        policy: fetchPolicyFromConfig(this.#config),
      },
    );
    out.parts.push({ type: "text", text: `[${NOUN.voice}, transcribed] ${text.trim()}` });
  }
}

const TRANSCRIPT = /^\[(?:voice message|audio file), transcribed\] /;

/** The transcript a stored part carries, when it is one (for /transcript). */
export function transcriptIn(text: string): string | undefined {
  return TRANSCRIPT.test(text) ? text.replace(TRANSCRIPT, "").trim() : undefined;
}

/** Locations and contacts are text already: nothing to download. */
function inlineText(a: Attachment): string | undefined {
  if (a.kind === "location" && a.location) {
    const { latitude, longitude, name, address } = a.location;
    const label = [name, address].filter(Boolean).join(", ");
    return `[location] ${label ? `${label} ` : ""}(${latitude}, ${longitude})`;
  }
  if (a.kind === "contact" && a.contact) {
    return `[contact] ${[a.contact.name, a.contact.phone].filter(Boolean).join(", ")}`;
  }
  if (a.kind === "sticker" && !a.platformId && !a.url) return a.alt ? `[sticker] ${a.alt}` : "[sticker]";
  return undefined;
}

function tooLarge(noun: string, size: number | undefined, limit: number): string {
  const amount = (n: number) =>
    n < MB ? `${Math.ceil(n / 1024)} KB` : `${Math.round((n / MB) * 10) / 10} MB`;
  const what = size
    ? `is ${amount(size)}; the limit here is ${amount(limit)}`
    : `is larger than the limit of ${amount(limit)}`;
  return `${cap(noun)} ${what}, so it was not passed on. Send a smaller one, or ask the operator to raise the media.inbound limits.`;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
