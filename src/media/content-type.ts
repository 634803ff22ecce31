// What a served media file may be shown as. Types a browser could execute or render as a page (HTML, SVG, XML,
// scripts …) are never served inline: they go out as application/octet-stream attachments, and every response
// carries nosniff so the browser does not guess otherwise.

const INLINE_SAFE = new Set([
  "image/jpeg",
  "image/png",
  "image/gif",
  "image/webp",
  "image/avif",
  "audio/mpeg",
  "audio/ogg",
  "audio/aac",
  "audio/mp4",
  "audio/wav",
  "video/mp4",
  "video/webm",
  "video/quicktime",
  "application/pdf",
  "text/plain",
]);

const EXTENSIONS: Record<string, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
  "image/avif": "avif",
  "audio/mpeg": "mp3",
  "audio/ogg": "ogg",
  "audio/aac": "aac",
  "audio/mp4": "m4a",
  "audio/wav": "wav",
  "video/mp4": "mp4",
  "video/webm": "webm",
  "video/quicktime": "mov",
  "application/pdf": "pdf",
  "text/plain": "txt",
};

export function normalizeMime(mime: string): string {
  return (mime.split(";")[0] ?? "").trim().toLowerCase();
}

export function extensionFor(mime: string): string {
  return EXTENSIONS[normalizeMime(mime)] ?? "bin";
}

export function isImage(mime: string): boolean {
  return normalizeMime(mime).startsWith("image/") && normalizeMime(mime) !== "image/svg+xml";
}

/** Headers that decide how the browser treats a served file. */
export function servingHeaders(mime: string, name: string | undefined): Record<string, string> {
  const type = normalizeMime(mime);
  const safeName = (name ?? "file").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100) || "file";
  const inline = INLINE_SAFE.has(type);
  return {
    "content-type": inline
      ? type === "text/plain"
        ? "text/plain; charset=utf-8"
        : type
      : "application/octet-stream",
    "content-disposition": `${inline ? "inline" : "attachment"}; filename="${safeName}"`,
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
  };
}
