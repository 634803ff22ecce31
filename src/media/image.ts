// Fits an image to a platform's limits (bytes, longest side, accepted formats) by scaling and re-encoding with
// sharp. An image is never dropped for being too big: it gets smaller until it fits, or a clear error says why not.
import type { Metadata, Sharp, SharpOptions } from "sharp";
import { normalizeMime } from "./content-type.ts";

/** sharp (libvips, tens of MB resident) is imported at the first image, not at start-up. */
let sharpModule: Promise<typeof import("sharp")> | undefined;
async function sharp(input: Buffer, options?: SharpOptions): Promise<Sharp> {
  sharpModule ??= import("sharp");
  return (await sharpModule).default(input, options);
}

export type ImageFormat = "jpeg" | "png" | "webp" | "gif";

export interface ImageLimits {
  maxBytes: number;
  /** Longest side in pixels. */
  maxDimension?: number;
  /** Formats the platform accepts; the first one is used when a re-encode is needed and the source has no alpha. */
  formats?: ImageFormat[];
}

export interface FittedImage {
  bytes: Buffer;
  mime: string;
  width: number;
  height: number;
  /** True when the bytes differ from the input. */
  changed: boolean;
}

export class ImageFitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageFitError";
  }
}

const MIME: Record<ImageFormat, string> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
};

const FORMAT_OF: Record<string, ImageFormat> = {
  jpeg: "jpeg",
  jpg: "jpeg",
  png: "png",
  webp: "webp",
  gif: "gif",
};

export async function fitImage(input: Buffer, mime: string, limits: ImageLimits): Promise<FittedImage> {
  const allowed = limits.formats ?? ["jpeg", "png", "webp", "gif"];
  let meta: Metadata;
  try {
    meta = await (await sharp(input)).metadata();
  } catch (err) {
    throw new ImageFitError(`not a readable image (${normalizeMime(mime)}): ${(err as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  const source = FORMAT_OF[meta.format ?? ""];
  const longest = Math.max(width, height);
  const dimsOk = !limits.maxDimension || longest <= limits.maxDimension;
  if (source && allowed.includes(source) && input.length <= limits.maxBytes && dimsOk) {
    return { bytes: input, mime: MIME[source], width, height, changed: false };
  }

  // Keep transparency where the platform can show it; otherwise JPEG compresses photos best.
  const target: ImageFormat =
    meta.hasAlpha && allowed.includes("png")
      ? "png"
      : allowed.includes("jpeg")
        ? "jpeg"
        : (allowed.find((f) => f !== "gif") ?? allowed[0]!);
  let side = Math.min(longest || 4096, limits.maxDimension ?? Number.MAX_SAFE_INTEGER);
  const qualities = target === "jpeg" || target === "webp" ? [85, 75, 60] : [100];
  for (let round = 0; round < 12 && side >= 16; round++) {
    for (const quality of qualities) {
      const out = await encode(input, target, side, quality);
      if (out.data.length <= limits.maxBytes) {
        return {
          bytes: out.data,
          mime: MIME[target],
          width: out.info.width,
          height: out.info.height,
          changed: true,
        };
      }
    }
    side = Math.floor(side * 0.75);
  }
  throw new ImageFitError(
    `could not make the image fit ${limits.maxBytes} bytes even at ${side}px; send a smaller image`,
  );
}

async function encode(input: Buffer, format: ImageFormat, side: number, quality: number) {
  const img = (await sharp(input, { animated: false }))
    .rotate() // apply EXIF orientation before the metadata is dropped
    .resize({ width: side, height: side, fit: "inside", withoutEnlargement: true });
  const encoded =
    format === "jpeg"
      ? img.flatten({ background: "#ffffff" }).jpeg({ quality, mozjpeg: true })
      : format === "png"
        ? img.png({ compressionLevel: 9, palette: quality < 100 })
        : format === "webp"
          ? img.webp({ quality })
          : img.gif();
  return encoded.toBuffer({ resolveWithObject: true });
}

/** A small JPEG preview (LINE's previewImageUrl: at most 1 MB; 240 px on the long side is what LINE suggests). */
export function previewImage(input: Buffer, maxDimension = 240, maxBytes = 1_000_000): Promise<FittedImage> {
  return fitImage(input, "image/jpeg", { maxBytes, maxDimension, formats: ["jpeg"] });
}
