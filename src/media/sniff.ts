// What a downloaded file really is, from its first bytes. Platforms declare types loosely (Telegram sends voice
// as application/octet-stream in some clients, WeChat calls AMR "voice", a PDF arrives as "file"), and a
// declared type must never decide how bytes are parsed or which encoder sees them.

const ascii = (bytes: Uint8Array, at: number, text: string): boolean => {
  if (bytes.length < at + text.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
};

const u32 = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** The MIME type the bytes' signature proves, or undefined when no known signature matches. */
export function sniffMime(bytes: Uint8Array): string | undefined {
  const b = bytes;
  if (b.length < 4) return undefined;
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (ascii(b, 0, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) return "image/gif";
  if (ascii(b, 0, "RIFF")) {
    if (ascii(b, 8, "WEBP")) return "image/webp";
    if (ascii(b, 8, "WAVE")) return "audio/wav";
    if (ascii(b, 8, "AVI ")) return "video/x-msvideo";
    return undefined;
  }
  if (ascii(b, 4, "ftyp")) return isoMedia(b);
  if (ascii(b, 0, "%PDF-")) return "application/pdf";
  if (ascii(b, 0, "OggS")) return "audio/ogg";
  if (ascii(b, 0, "fLaC")) return "audio/flac";
  if (ascii(b, 0, "#!AMR-WB\n")) return "audio/amr-wb";
  if (ascii(b, 0, "#!AMR")) return "audio/amr";
  if (u32(b, 0) === 0x1a45dfa3) return hasDocType(b, "matroska") ? "video/x-matroska" : "video/webm";
  if (b[0] === 0x50 && b[1] === 0x4b && (b[2] === 3 || b[2] === 5 || b[2] === 7)) return "application/zip";
  if (ascii(b, 0, "ID3")) return afterId3(b);
  return frameSync(b, 0);
}

/** An EBML header names its document type ("webm" or "matroska") in its first few dozen bytes. */
function hasDocType(b: Uint8Array, docType: string): boolean {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 64)).toString("latin1");
  return head.includes(docType);
}

/** ISO base media (MP4, M4A, 3GP, QuickTime, HEIF, AVIF): the major brand, then the compatible brands. */
function isoMedia(b: Uint8Array): string | undefined {
  const size = Math.min(u32(b, 0), b.length, 256);
  const brands: string[] = [];
  for (let at = 8; at + 4 <= size; at += at === 8 ? 8 : 4) {
    brands.push(Buffer.from(b.subarray(at, at + 4)).toString("latin1"));
  }
  const major = brands[0] ?? "";
  const has = (...names: string[]) => brands.some((x) => names.includes(x));
  if (major === "avif" || major === "avis") return "image/avif";
  if (["heic", "heix", "heim", "heis", "hevc", "hevx"].includes(major)) return "image/heic";
  if (major === "mif1" || major === "msf1") {
    if (has("avif", "avis")) return "image/avif";
    return has("heic", "heix", "hevc", "hevx") ? "image/heic" : "image/heif";
  }
  if (major === "M4A " || major === "M4B " || major === "M4P ") return "audio/mp4";
  if (major === "qt  ") return "video/quicktime";
  // A voice note in a generic MP4 or 3GP box has a sound track and no video track.
  const audioOnly = hasHandler(b, "soun") && !hasHandler(b, "vide");
  if (major.startsWith("3gp") || major.startsWith("3g2")) return audioOnly ? "audio/3gpp" : "video/3gpp";
  if (major === "F4A " || major === "F4B ") return "audio/mp4";
  return audioOnly ? "audio/mp4" : "video/mp4";
}

/** Whether an `hdlr` box declares this handler type (its type sits 8 bytes after the box name). */
function hasHandler(b: Uint8Array, type: string): boolean {
  const buf = Buffer.from(b.buffer, b.byteOffset, b.length);
  for (let at = buf.indexOf("hdlr"); at >= 0; at = buf.indexOf("hdlr", at + 4)) {
    if (ascii(b, at + 12, type)) return true;
  }
  return false;
}

/** An ID3v2 tag (a syncsafe size after 10 bytes of header) usually precedes MP3 frames, sometimes AAC or FLAC. */
function afterId3(b: Uint8Array): string {
  if (b.length < 10) return "audio/mpeg";
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  const at = 10 + size + (b[5]! & 0x10 ? 10 : 0);
  if (ascii(b, at, "fLaC")) return "audio/flac";
  return frameSync(b, at) ?? "audio/mpeg";
}

/** MPEG audio frame header: 11 sync bits, then a version, layer, bitrate and rate that are not reserved. */
function frameSync(b: Uint8Array, at: number): string | undefined {
  if (b.length < at + 4 || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (b[at + 1]! >> 3) & 3;
  const layer = (b[at + 1]! >> 1) & 3;
  // Layer bits 00 with the MPEG-4/2 sync (0xFFF) is an ADTS AAC frame.
  if (layer === 0)
    return (b[at + 1]! & 0xf0) === 0xf0 && ((b[at + 2]! >> 2) & 0xf) < 13 ? "audio/aac" : undefined;
  const bitrate = b[at + 2]! >> 4;
  const rate = (b[at + 2]! >> 2) & 3;
  if (version === 1 || bitrate === 15 || rate === 3) return undefined;
  return "audio/mpeg";
}

const TEXT_EXTENSIONS = new Set(
  (
    "txt text md markdown rst adoc org csv tsv json jsonl ndjson yaml yml xml html htm xhtml log ini cfg conf " +
    "toml properties env tex srt vtt ics vcf sql graphql gql proto diff patch " +
    "js mjs cjs jsx ts mts cts tsx py pyi rb go rs java kt kts scala groovy gradle c h cc cpp cxx hpp hh cs " +
    "fs swift m mm php pl pm lua r jl dart ex exs erl hrl hs elm clj cljs edn ml mli nim zig v sol " +
    "sh bash zsh fish ps1 bat cmd css scss sass less vue svelte astro dockerfile makefile cmake tf hcl nix"
  ).split(" "),
);

const TEXT_MIMES = new Set([
  "application/json",
  "application/ld+json",
  "application/x-ndjson",
  "application/xml",
  "application/yaml",
  "application/x-yaml",
  "application/toml",
  "application/javascript",
  "application/x-javascript",
  "application/typescript",
  "application/x-sh",
  "application/x-shellscript",
  "application/sql",
  "application/x-httpd-php",
  "application/x-python",
  "application/csv",
  "application/x-subrip",
  "application/xhtml+xml",
]);

/** Whether a declared type or a file name says the file is meant to be read as text. */
export function textishName(declaredMime?: string, name?: string): boolean {
  const mime = (declaredMime ?? "").split(";")[0]!.trim().toLowerCase();
  if (mime.startsWith("text/") || TEXT_MIMES.has(mime)) return true;
  if (mime.startsWith("application/") && (mime.endsWith("+json") || mime.endsWith("+xml"))) return true;
  const base = (name ?? "").toLowerCase().split(/[\\/]/).pop() ?? "";
  if (base === "dockerfile" || base === "makefile" || base === "readme" || base === "license") return true;
  const dot = base.lastIndexOf(".");
  return dot >= 0 && TEXT_EXTENSIONS.has(base.slice(dot + 1));
}

/** The text encoding a byte-order mark announces, or utf-8 when there is none. */
export function bomEncoding(bytes: Uint8Array): "utf-8" | "utf-16le" | "utf-16be" {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return "utf-16le";
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return "utf-16be";
  return "utf-8";
}

/**
 * A file the agent can read as text: it decodes cleanly (UTF-8, or UTF-16 with a byte-order mark), holds no NUL,
 * and its declared type or its name says it is text.
 */
export function isTextLike(bytes: Uint8Array, declaredMime?: string, name?: string): boolean {
  if (!textishName(declaredMime, name)) return false;
  let text: string;
  try {
    text = new TextDecoder(bomEncoding(bytes), { fatal: true }).decode(bytes);
  } catch {
    return false;
  }
  return !text.includes("\0");
}
