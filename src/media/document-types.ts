// Which files an agent's answer may hand over as documents, and what they really are. A link names a type (the
// data URL's, or the file extension's); the bytes must agree before anything is sent: a PDF starts with %PDF-,
// office files are ZIP (OOXML, OpenDocument) or OLE containers, text decodes cleanly. Pure.
import { isTextLike, sniffMime } from "./sniff.ts";

const OOXML = "application/vnd.openxmlformats-officedocument";

/** Document types by extension: what a link's path or a file name may end with. */
const BY_EXTENSION: Record<string, string> = {
  pdf: "application/pdf",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  txt: "text/plain",
  md: "text/markdown",
  json: "application/json",
  zip: "application/zip",
  doc: "application/msword",
  xls: "application/vnd.ms-excel",
  ppt: "application/vnd.ms-powerpoint",
  docx: `${OOXML}.wordprocessingml.document`,
  xlsx: `${OOXML}.spreadsheetml.sheet`,
  pptx: `${OOXML}.presentationml.presentation`,
  odt: "application/vnd.oasis.opendocument.text",
  ods: "application/vnd.oasis.opendocument.spreadsheet",
  odp: "application/vnd.oasis.opendocument.presentation",
};

const EXTENSION_OF = Object.fromEntries(Object.entries(BY_EXTENSION).map(([ext, mime]) => [mime, ext]));

/** Types whose bytes are a ZIP archive, and those in an OLE compound file (the old Office formats). */
const IN_ZIP = new Set(
  Object.values(BY_EXTENSION).filter((m) => m.startsWith(OOXML) || m.includes("opendocument")),
);
const IN_OLE = new Set(["application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"]);
const OLE_MAGIC = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** The document type a data URL's type or a file name names, or undefined when it is not one we send. */
export function documentTypeOf(o: { mime?: string; name?: string }): string | undefined {
  const mime = (o.mime ?? "").split(";")[0]!.trim().toLowerCase();
  if (mime) return EXTENSION_OF[mime] ? mime : undefined;
  const ext = /\.([a-z0-9]{1,5})$/i.exec(o.name ?? "")?.[1]?.toLowerCase();
  return ext ? BY_EXTENSION[ext] : undefined;
}

export function documentExtension(mime: string): string {
  return EXTENSION_OF[mime] ?? "bin";
}

/**
 * What the bytes are, when they are the document the link promised (or a plain ZIP or text file, whatever the
 * link said): undefined when they are something else — an HTML error page behind a .pdf link is not sent.
 */
export function documentMime(bytes: Uint8Array, declared: string, name: string): string | undefined {
  const sniffed = sniffMime(bytes);
  if (sniffed === "application/pdf") return sniffed;
  if (sniffed === "application/zip") return IN_ZIP.has(declared) ? declared : sniffed;
  if (sniffed) return undefined;
  if (IN_OLE.has(declared)) return Buffer.from(bytes.subarray(0, 8)).equals(OLE_MAGIC) ? declared : undefined;
  if (!isTextLike(bytes, declared, name) || looksLikeHtml(bytes)) return undefined;
  return declared.startsWith("text/") || declared === "application/json" ? declared : "text/plain";
}

/** A web page where a file was promised: a sign-in or error page served with status 200. */
function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 256)).toString("utf8").trimStart().toLowerCase();
  return head.startsWith("<!doctype html") || head.startsWith("<html");
}
