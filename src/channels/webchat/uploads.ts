// Files sent with a web chat message (docs/webchat-api.md, "Attachments"). The page posts them as base64 inside
// the message's JSON; the bytes go to the media store at once (owned by the thread, kept media.inbound.keepDays)
// and the event carries `<thread>/<media id>` as the attachment's platformId, which fetchAttachment reads back
// for the inbox worker, for that thread only. Which files a message had is kept by event id, so the thread's
// history shows the user's pictures again when it is reopened, and a retried post stores nothing twice.
import type { Config } from "../../config/schema.ts";
import type { Attachment } from "../../core/event.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import { isImage, normalizeMime } from "../../media/content-type.ts";
import { MediaStore } from "../../media/store.ts";
import type { Store } from "../../store/types.ts";
import { AttachmentUnavailableError } from "../sdk/download.ts";
import type { FetchedMedia, FetchLimits } from "../types.ts";
import type { FrameMedia } from "./frames.ts";

const MB = 1024 * 1024;
/** All files of one message together: a JSON body of about 4/3 of this must fit the listener's body budget. */
export const MAX_UPLOAD_TOTAL_BYTES = 32 * MB;
/** Room in the body for the text and the JSON around the files. */
const BODY_MARGIN = 256 * 1024;
const NAMESPACE = "webchat-attachments";
const THREAD = /^[A-Za-z0-9_-]{1,64}$/;

export interface Upload {
  name: string;
  mime: string;
  bytes: Buffer;
}

interface KeptFile {
  id: string;
  name: string;
  mime: string;
  size: number;
}

/** What the API answers instead of taking the files: its status and a message that says what to change. */
export interface UploadRefusal {
  status: number;
  error: string;
}

type Inbound = Config["media"]["inbound"];

function kindOf(mime: string): Attachment["kind"] {
  if (isImage(mime)) return "image";
  if (mime.startsWith("audio/")) return "audio";
  if (mime.startsWith("video/")) return "video";
  return "file";
}

/** The per-kind limit (bytes) that applies to a file, with the setting that sets it. */
function limitFor(inbound: Inbound, kind: Attachment["kind"]): { bytes: number; what: string; key: string } {
  const mb = (n: number) => Math.floor(n * MB);
  if (kind === "image") return { bytes: mb(inbound.maxImageMb), what: "pictures", key: "maxImageMb" };
  if (kind === "audio") return { bytes: mb(inbound.maxAudioMb), what: "audio files", key: "maxAudioMb" };
  if (kind === "video") return { bytes: mb(inbound.maxVideoMb), what: "videos", key: "maxVideoMb" };
  return { bytes: mb(inbound.maxFileMb), what: "files", key: "maxFileMb" };
}

/** Largest message body the route reads: the files of one message (at most the largest per-kind limit) as base64. */
export function messageBodyLimit(inbound: Inbound): number {
  const largest = Math.max(
    ...(["image", "audio", "video", "file"] as const).map((k) => limitFor(inbound, k).bytes),
  );
  return Math.ceil((Math.min(largest, MAX_UPLOAD_TOTAL_BYTES) * 4) / 3) + BODY_MARGIN;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < MB) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / MB).toFixed(1)} MB`;
}

/** The `attachments` of a message body, checked against the limits; a refusal names the file and the limit. */
export function readUploads(value: unknown, inbound: Inbound): Upload[] | UploadRefusal {
  if (value === undefined) return [];
  const shape = 'attachments must be a list of {"name", "mime", "dataBase64"}';
  if (!Array.isArray(value)) return { status: 400, error: shape };
  if (value.length > inbound.maxPerMessage) {
    return {
      status: 400,
      error: `${value.length} attachments; one message may carry at most ${inbound.maxPerMessage} (media.inbound.maxPerMessage)`,
    };
  }
  const uploads: Upload[] = [];
  let total = 0;
  for (const [i, item] of value.entries()) {
    const { name, mime, dataBase64 } = (item ?? {}) as Record<string, unknown>;
    if (typeof dataBase64 !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(dataBase64)) {
      return { status: 400, error: `attachments[${i}].dataBase64 must be the file's bytes in base64` };
    }
    const fileName = (typeof name === "string" && name.trim() ? name.trim() : `file-${i + 1}`).slice(0, 200);
    const type = (typeof mime === "string" && normalizeMime(mime)) || "application/octet-stream";
    const bytes = Buffer.from(dataBase64, "base64");
    if (bytes.length === 0) return { status: 400, error: `"${fileName}" is empty` };
    const limit = limitFor(inbound, kindOf(type));
    if (bytes.length > limit.bytes) {
      return {
        status: 413,
        error: `"${fileName}" is ${formatBytes(bytes.length)}; ${limit.what} may be at most ${formatBytes(limit.bytes)} (media.inbound.${limit.key}). Nothing was sent: remove it or send a smaller one.`,
      };
    }
    total += bytes.length;
    if (total > MAX_UPLOAD_TOTAL_BYTES) {
      return {
        status: 413,
        error: `the attachments add up to more than ${formatBytes(MAX_UPLOAD_TOTAL_BYTES)} for one message. Nothing was sent: send them in several messages.`,
      };
    }
    uploads.push({ name: fileName, mime: type, bytes });
  }
  return uploads;
}

export class WebchatUploads {
  readonly #store: Store;
  readonly #files: MediaStore;
  readonly #inbound: Inbound;

  constructor(store: Store, inbound: Inbound) {
    this.#store = store;
    this.#files = new MediaStore(store);
    this.#inbound = inbound;
  }

  /**
   * Stores the files of the message `eventId` in `thread` and returns its attachments. A repeated post of the
   * same message (same clientMessageId, so same event id) gets the files stored the first time.
   */
  async keep(thread: string, sessionKey: string, eventId: string, uploads: Upload[]): Promise<Attachment[]> {
    if (!uploads.length) return [];
    const keepMs = this.#inbound.keepDays * 86_400_000;
    let kept = await this.#kept(eventId);
    if (!kept) {
      const expiresAtSec = Math.floor((Date.now() + keepMs) / 1000);
      kept = [];
      for (const u of uploads) {
        const id = await this.#files.save(u.bytes, {
          mime: u.mime,
          owner: sessionKey,
          name: u.name,
          expiresAtSec,
        });
        kept.push({ id, name: u.name, mime: u.mime, size: u.bytes.length });
      }
      await this.#store.kvSet(NAMESPACE, eventId, JSON.stringify(kept), keepMs);
    }
    return kept.map((f) => ({
      kind: kindOf(f.mime),
      mime: f.mime,
      name: f.name,
      size: f.size,
      platformId: `${thread}/${f.id}`,
    }));
  }

  /** The files of `fromEventId` sent again with `toEventId` (a regenerated or edited message): no bytes copied. */
  async carry(thread: string, fromEventId: string, toEventId: string): Promise<Attachment[]> {
    const kept = await this.#kept(fromEventId);
    if (!kept?.length) return [];
    await this.#store.kvSet(NAMESPACE, toEventId, JSON.stringify(kept), this.#inbound.keepDays * 86_400_000);
    return kept.map((f) => ({
      kind: kindOf(f.mime),
      mime: f.mime,
      name: f.name,
      size: f.size,
      platformId: `${thread}/${f.id}`,
    }));
  }

  /** The files of a message as its history shows them: pictures with their bytes, other files by name. */
  async history(eventId: string): Promise<FrameMedia[]> {
    const kept = await this.#kept(eventId);
    if (!kept) return [];
    const out: FrameMedia[] = [];
    for (const f of kept) {
      if (!isImage(f.mime)) {
        out.push({ mime: f.mime, filename: f.name });
        continue;
      }
      const row = await this.#files.read(f.id);
      if (row) out.push({ mime: row.mime, filename: f.name, dataBase64: row.bytes.toString("base64") });
    }
    return out;
  }

  /** Names and types of a message's files (for the pending list and other tabs). */
  async names(eventId: string): Promise<{ name: string; mime: string }[]> {
    return ((await this.#kept(eventId)) ?? []).map((f) => ({ name: f.name, mime: f.mime }));
  }

  /** The bytes behind an attachment's `<thread>/<media id>`, when that thread owns them. */
  async fetch(platformId: string | undefined, sessionKeyOf: (thread: string) => string, limits: FetchLimits) {
    const [thread = "", id = ""] = (platformId ?? "").split("/");
    if (!THREAD.test(thread) || !MediaStore.isId(id)) {
      throw new AttachmentUnavailableError("the web chat attachment has no valid file reference");
    }
    const row = await this.#files.read(id);
    if (!row || row.owner !== sessionKeyOf(thread)) {
      throw new AttachmentUnavailableError(
        `the web chat file is not in this thread's files (it expired after media.inbound.keepDays = ${this.#inbound.keepDays}, or belongs elsewhere)`,
      );
    }
    if (row.bytes.length > limits.maxBytes) {
      throw new MediaTooLargeError(
        `the web chat file is ${formatBytes(row.bytes.length)}, over the limit of ${formatBytes(limits.maxBytes)}`,
        limits.maxBytes,
      );
    }
    const fetched: FetchedMedia = { bytes: row.bytes, mime: row.mime };
    if (row.name) fetched.name = row.name;
    return fetched;
  }

  async #kept(eventId: string): Promise<KeptFile[] | undefined> {
    const raw = await this.#store.kvGet(NAMESPACE, eventId);
    return raw ? (JSON.parse(raw) as KeptFile[]) : undefined;
  }
}
