// Pictures and files in the agent's answers, kept for the thread's history. The gateway's history keeps only a
// note ("[1 picture sent]") so the bytes are never sent back to the agent; the web chat shows the pictures (and
// offers the files) again when a thread is reopened, so it keeps them itself, by the message they answer, for
// media.inbound.keepDays.
import { normalizeMime } from "../../media/content-type.ts";
import { MediaStore } from "../../media/store.ts";
import type { Store } from "../../store/types.ts";
import type { MediaItem } from "../types.ts";
import type { FrameMedia } from "./frames.ts";

const NAMESPACE = "webchat-answer-media";
/** Writers of one answer's record that lost a race try again this often. */
const ATTEMPTS = 5;

interface KeptImage {
  id: string;
  mime: string;
  filename: string;
  caption?: string;
}

/** Per delivery (its idempotency key), the pictures it carried. */
type Record_ = Record<string, KeptImage[]>;

export class AnswerMedia {
  readonly #store: Store;
  readonly #files: MediaStore;
  readonly #keepMs: number;

  constructor(store: Store, keepDays: number) {
    this.#store = store;
    this.#files = new MediaStore(store);
    this.#keepMs = keepDays * 86_400_000;
  }

  /** Keeps the pictures of one delivery answering `eventId`; a repeated delivery keeps nothing again. */
  async keep(sessionKey: string, eventId: string, deliveryKey: string, media: MediaItem[]): Promise<void> {
    if (!media.length || (await this.#kept(eventId))[deliveryKey]) return;
    // The bytes are stored once; only the small record is retried when another writer got there first.
    const saved = await this.#save(sessionKey, media);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const raw = await this.#store.kvGet(NAMESPACE, eventId);
      const kept: Record_ = raw ? JSON.parse(raw) : {};
      if (kept[deliveryKey]) break;
      kept[deliveryKey] = saved;
      const value = JSON.stringify(kept);
      const written = raw
        ? await this.#store.kvCompareAndSet(NAMESPACE, eventId, raw, value, this.#keepMs)
        : await this.#store.kvSetIfAbsent(NAMESPACE, eventId, value, this.#keepMs);
      if (written) return;
    }
    // Kept by another writer meanwhile, or every attempt lost: these copies are nobody's.
    for (const s of saved) await this.#files.delete(s.id);
  }

  async #kept(eventId: string): Promise<Record_> {
    const raw = await this.#store.kvGet(NAMESPACE, eventId);
    return raw ? JSON.parse(raw) : {};
  }

  async #save(sessionKey: string, media: MediaItem[]): Promise<KeptImage[]> {
    const expiresAtSec = Math.floor((Date.now() + this.#keepMs) / 1000);
    const saved: KeptImage[] = [];
    for (const m of media) {
      const mime = normalizeMime(m.mime);
      const id = await this.#files.save(Buffer.from(m.dataBase64, "base64"), {
        mime,
        owner: sessionKey,
        name: m.filename,
        expiresAtSec,
      });
      saved.push({ id, mime, filename: m.filename, ...(m.caption ? { caption: m.caption } : {}) });
    }
    return saved;
  }

  /** The pictures of the answers to `eventId` still kept, in the order they were delivered. */
  async history(eventId: string): Promise<FrameMedia[]> {
    const out: FrameMedia[] = [];
    for (const images of Object.values(await this.#kept(eventId))) {
      for (const k of images) {
        const row = await this.#files.read(k.id);
        if (!row) continue;
        out.push({
          mime: row.mime,
          filename: k.filename,
          ...(k.caption ? { caption: k.caption } : {}),
          dataBase64: row.bytes.toString("base64"),
        });
      }
    }
    return out;
  }
}
