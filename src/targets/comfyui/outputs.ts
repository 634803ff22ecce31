// A finished job's images: which ones are sent (saved outputs first, previews only when there is nothing else),
// fetched within the limits, and shrunk through the shared image fitter when one is too big to send as is.
import type { MediaItem } from "../../channels/types.ts";
import { fitImage } from "../../media/image.ts";
import type { HistoryEntry, ImageRef } from "./client.ts";

export interface OutputLimits {
  maxImages: number;
  maxImageMB: number;
}

export type ViewImage = (ref: ImageRef, maxBytes: number) => Promise<{ bytes: Buffer; mime: string }>;

/** Longest side of a shrunk result: large enough to look at, small enough for every channel. */
const SHRUNK_SIDE = 2048;

export function outputRefs(entry: HistoryEntry): ImageRef[] {
  const all: ImageRef[] = [];
  for (const out of Object.values(entry.outputs ?? {})) all.push(...(out.images ?? []), ...(out.gifs ?? []));
  const saved = all.filter((i) => i.type === "output");
  return saved.length ? saved : all;
}

export async function collectImages(
  view: ViewImage,
  entry: HistoryEntry,
  limits: OutputLimits,
): Promise<{ media: MediaItem[]; notes: string[] }> {
  const refs = outputRefs(entry);
  const max = limits.maxImages;
  const maxBytes = Math.floor(limits.maxImageMB * 1024 * 1024);
  const media: MediaItem[] = [];
  const notes: string[] = [];
  if (refs.length > max)
    notes.push(`(${refs.length - max} more image(s) not sent: the limit is ${max} per job)`);
  for (const ref of refs.slice(0, max)) {
    let size = 0;
    try {
      let { bytes, mime } = await view(ref, maxBytes);
      size = bytes.length;
      let filename = ref.filename;
      if (bytes.length > maxBytes && mime.startsWith("image/")) {
        // Too big to send as is: a JPEG at most 2048 px usually fits; the fitter shrinks further if not.
        const fitted = await fitImage(bytes, mime, {
          maxBytes,
          maxDimension: SHRUNK_SIDE,
          formats: ["jpeg"],
        });
        ({ bytes, mime } = fitted);
        filename = `${filename.replace(/\.[^.]+$/, "")}.jpg`;
      }
      if (bytes.length > maxBytes) {
        notes.push(
          `(${ref.filename} not sent: ${mb(bytes.length)} MB is over the ${limits.maxImageMB} MB limit)`,
        );
        continue;
      }
      media.push({ dataBase64: bytes.toString("base64"), mime, filename });
    } catch (err) {
      notes.push(
        size > maxBytes
          ? `(${ref.filename} not sent: ${mb(size)} MB is over the ${limits.maxImageMB} MB limit)`
          : `(${ref.filename} could not be fetched: ${(err as Error).message})`,
      );
    }
  }
  return { media, notes };
}

const mb = (bytes: number) => (bytes / 1048576).toFixed(1);
