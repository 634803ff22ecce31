// Media kept for a conversation's history. The store's history holds text only, so a delivered image that must
// stay visible (the web chat shows history when a thread is reopened) is saved in the media store and named in
// the stored text by a reference line `![<filename>](media:<media id>)`. Readers of history split those lines
// off again and load the bytes. Only "system" messages (written by clawgate itself) are read for references: a
// user or an agent writing one gets nothing.
import type { MediaItem } from "../channels/types.ts";
import { isImage, normalizeMime } from "./content-type.ts";
import type { MediaStore } from "./store.ts";

const REF = /\n!\[([^\]\n]{0,200})\]\(media:(m_[a-f0-9]{32})\)/g;

export interface MediaRef {
  name: string;
  filename: string;
}

/** Saves the images of a message for `keepSec` and returns the text to store: the text plus one line each. */
export async function keepInHistory(
  files: MediaStore,
  owner: string,
  text: string,
  media: MediaItem[],
  keepSec: number,
): Promise<string> {
  const expiresAtSec = Math.floor(Date.now() / 1000) + keepSec;
  const lines: string[] = [];
  for (const m of media) {
    const mime = normalizeMime(m.mime);
    if (!isImage(mime)) continue;
    const filename = (m.filename ?? "image").replace(/[\]\n]/g, "_").slice(0, 200);
    const id = await files.save(Buffer.from(m.dataBase64, "base64"), {
      mime,
      owner,
      name: filename,
      expiresAtSec,
    });
    lines.push(`![${filename}](media:${id})`);
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
export async function loadMediaRefs(files: MediaStore, refs: MediaRef[]): Promise<MediaItem[]> {
  const out: MediaItem[] = [];
  for (const r of refs) {
    const m = await files.read(r.name);
    if (m && isImage(m.mime))
      out.push({ mime: m.mime, filename: r.filename, dataBase64: m.bytes.toString("base64") });
  }
  return out;
}
