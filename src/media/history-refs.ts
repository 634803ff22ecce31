// Media kept for a conversation's history. The store's history holds text only, so a delivered image that must
// stay visible (the web chat shows history when a thread is reopened) is saved in the media store
// (<dataDir>/media) and named in the stored text by a reference line `![<filename>](media:<stored name>)`.
// Readers of history split those lines off again and load the bytes. Only "system" messages (written by
// clawgate itself) are read for references: a user or an agent writing one gets nothing.
import type { MediaItem } from "../channels/types.ts";
import { extensionFor, isImage, normalizeMime } from "./content-type.ts";
import type { MediaFiles } from "./files.ts";

const STORED = "\\d{9,12}-[a-f0-9]{32}\\.[a-z0-9]{1,5}";
const REF = new RegExp(`\\n!\\[([^\\]\\n]{0,200})\\]\\(media:(${STORED})\\)`, "g");

const MIME_OF: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
};

export interface MediaRef {
  name: string;
  filename: string;
}

/** Saves the images of a message for `keepSec` and returns the text to store: the text plus one line each. */
export async function keepInHistory(
  files: MediaFiles,
  text: string,
  media: MediaItem[],
  keepSec: number,
): Promise<string> {
  const expiresAt = Math.floor(Date.now() / 1000) + keepSec;
  const lines: string[] = [];
  for (const m of media) {
    const mime = normalizeMime(m.mime);
    if (!isImage(mime) || !MIME_OF[extensionFor(mime)]) continue;
    const name = await files.save(Buffer.from(m.dataBase64, "base64"), extensionFor(mime), expiresAt);
    lines.push(`![${(m.filename ?? "image").replace(/[\]\n]/g, "_").slice(0, 200)}](media:${name})`);
  }
  return lines.length ? `${text}\n${lines.join("\n")}` : text;
}

/** The text without its reference lines, and the references. */
export function splitMediaRefs(content: string): { text: string; refs: MediaRef[] } {
  const refs: MediaRef[] = [];
  const text = content.replace(REF, (_m, filename: string, name: string) => {
    refs.push({ name, filename });
    return "";
  });
  return { text, refs };
}

/** The referenced images still in the store (expired ones are gone and left out). */
export async function loadMediaRefs(files: MediaFiles, refs: MediaRef[]): Promise<MediaItem[]> {
  const out: MediaItem[] = [];
  for (const r of refs) {
    const bytes = await files.read(r.name);
    const mime = MIME_OF[r.name.split(".").pop() ?? ""];
    if (bytes && mime) out.push({ mime, filename: r.filename, dataBase64: bytes.toString("base64") });
  }
  return out;
}
