// A small streaming reader for multipart/form-data (RFC 7578): parts are cut out of the body as it arrives and
// a file larger than its cap fails the moment it crosses it, so an oversized upload is refused without being
// read to the end or kept. Node's Request.formData() would buffer the whole body first; busboy is not a
// dependency here. Pure: it reads from any async iterable of bytes.
import { HttpError } from "../http/errors.ts";

/** A body the reader refuses, with the HTTP status to answer (413 too large, 400 malformed). */
export class MultipartError extends HttpError {
  constructor(status: number, message: string) {
    super(status, message);
    this.name = "MultipartError";
  }
}

export interface MultipartFile {
  field: string;
  /** As the client sent it; see safeFileName. */
  filename: string;
  mime: string;
  bytes: Buffer;
}

export interface MultipartLimits {
  maxFileBytes: number;
  maxFiles: number;
  maxFieldBytes: number;
  maxParts: number;
}

type State = "preamble" | "after" | "head" | "body" | "done";

const HEADER_LIMIT = 8192;
const PREAMBLE_LIMIT = 1024;

/** The boundary of a multipart/form-data content type, or undefined when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

interface PartHead {
  name: string;
  filename?: string;
  mime: string;
}

function parseHead(text: string): PartHead {
  let disposition = "";
  let mime = "application/octet-stream";
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) throw new MultipartError(400, "a multipart part header has no colon");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-disposition") disposition = value;
    else if (name === "content-type") mime = value.slice(0, 200);
  }
  if (!/^form-data\s*(;|$)/i.test(disposition))
    throw new MultipartError(400, "each part needs Content-Disposition: form-data; name=…");
  // Browsers send names as written, with `"` as %22 and line breaks as %0D/%0A (HTML's form encoding), never
  // backslash escapes: a backslash is part of the name (a Windows path, to be cut by safeFileName).
  const param = (key: string) => {
    const m = new RegExp(`;\\s*${key}="([^"]*)"`, "i").exec(disposition);
    return m ? m[1]!.replace(/%22/g, '"').replace(/%0D/gi, "\r").replace(/%0A/gi, "\n") : undefined;
  };
  const name = param("name");
  if (name === undefined) throw new MultipartError(400, "a part's Content-Disposition has no name");
  const filename = param("filename");
  return { name, mime, ...(filename !== undefined ? { filename } : {}) };
}

/** Reads every part; fields as text, files as bytes (each within its cap). */
export async function readMultipart(
  body: AsyncIterable<Uint8Array>,
  boundary: string,
  limits: MultipartLimits,
): Promise<{ fields: Record<string, string>; files: MultipartFile[] }> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const tail = delimiter.length - 1;
  const fields: Record<string, string> = {};
  const files: MultipartFile[] = [];
  // The body starts with the delimiter minus its CRLF: prepending one lets one search find every delimiter.
  let buf: Buffer = Buffer.from("\r\n");
  let state = "preamble" as State;
  let head: PartHead | undefined;
  let chunks: Buffer[] = [];
  let size = 0;
  let parts = 0;

  const take = (data: Buffer) => {
    if (!data.length) return;
    size += data.length;
    const cap = head?.filename !== undefined ? limits.maxFileBytes : limits.maxFieldBytes;
    if (size > cap)
      throw new MultipartError(
        413,
        head?.filename !== undefined
          ? `the file is larger than the limit of ${cap} bytes`
          : `the field ${JSON.stringify(head?.name)} is larger than ${cap} bytes`,
      );
    chunks.push(data);
  };
  const finish = () => {
    const h = head!;
    const bytes = Buffer.concat(chunks);
    if (h.filename !== undefined) {
      if (files.length >= limits.maxFiles)
        throw new MultipartError(400, `send at most ${limits.maxFiles} file(s) per upload`);
      files.push({ field: h.name, filename: h.filename, mime: h.mime, bytes });
    } else fields[h.name] = bytes.toString("utf8");
    chunks = [];
    size = 0;
    head = undefined;
  };

  const step = (): boolean => {
    switch (state) {
      case "preamble": {
        const at = buf.indexOf(delimiter);
        if (at < 0) {
          if (buf.length > PREAMBLE_LIMIT) throw new MultipartError(400, "no multipart boundary found");
          return false;
        }
        buf = buf.subarray(at + delimiter.length);
        state = "after";
        return true;
      }
      case "after": {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = "done";
          return false;
        }
        if (buf[0] !== 0x0d || buf[1] !== 0x0a)
          throw new MultipartError(400, "malformed multipart boundary line");
        buf = buf.subarray(2);
        if (++parts > limits.maxParts) throw new MultipartError(400, `send at most ${limits.maxParts} parts`);
        state = "head";
        return true;
      }
      case "head": {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) {
          if (buf.length > HEADER_LIMIT)
            throw new MultipartError(400, "a multipart part's headers are too long");
          return false;
        }
        head = parseHead(buf.subarray(0, end).toString("utf8"));
        buf = buf.subarray(end + 4);
        state = "body";
        return true;
      }
      case "body": {
        const at = buf.indexOf(delimiter);
        if (at >= 0) {
          take(Buffer.from(buf.subarray(0, at)));
          finish();
          buf = buf.subarray(at + delimiter.length);
          state = "after";
          return true;
        }
        // Keep what could be the start of a delimiter split across chunks.
        if (buf.length > tail) {
          take(Buffer.from(buf.subarray(0, buf.length - tail)));
          buf = buf.subarray(buf.length - tail);
        }
        return false;
      }
      default:
        return false;
    }
  };

  for await (const chunk of body) {
    buf = buf.length ? Buffer.concat([buf, chunk]) : Buffer.from(chunk);
    while (step()) {}
    if ((state as State) === "done") break;
  }
  if ((state as State) !== "done")
    throw new MultipartError(400, "the multipart body ended before its closing boundary");
  return { fields, files };
}

/**
 * The name a file is kept under: the last path segment of what the client sent (a browser sends a bare name; a
 * crafted `../../etc/passwd` becomes `passwd`), refused when it holds control characters (a NUL cuts names short
 * in C libraries) or nothing is left.
 */
export function safeFileName(raw: string): { name: string } | { error: string } {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(raw))
    return { error: "the file name must not contain control characters" };
  const base = raw.split(/[\\/]/).pop()!.trim();
  if (!base || base === "." || base === "..") return { error: "the file needs a name (e.g. notes.txt)" };
  return { name: base.slice(0, 200) };
}
