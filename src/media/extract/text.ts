// The text an agent can read from a file a user sent: text files as they are (UTF-8, or UTF-16 with a
// byte-order mark), PDFs through their text layer. Anything else is not text and gets no answer here.
import { cutText } from "../../core/text-cut.ts";
import { normalizeMime } from "../content-type.ts";
import { bomEncoding, isTextLike, sniffMime, textishName } from "../sniff.ts";

export interface FileText {
  text: string;
  /** The text was longer than maxChars and was cut. */
  truncated: boolean;
  /** Pages of a PDF. */
  pages?: number;
}

export class PdfReadError extends Error {
  constructor(name: string | undefined, reason: string) {
    super(`the PDF${name ? ` ${name}` : ""} could not be read: ${reason}`);
    this.name = "PdfReadError";
  }
}

/**
 * The file's text cut to maxChars, or undefined when it is neither text nor a PDF. A PDF without a text layer
 * (a scan) gives text "" so the caller can say so; a damaged PDF throws PdfReadError.
 */
export async function textOfFile(
  bytes: Buffer,
  o: { mime: string; name?: string; maxChars: number },
): Promise<FileText | undefined> {
  const sniffed = sniffMime(bytes);
  if (sniffed === "application/pdf" || (!sniffed && normalizeMime(o.mime) === "application/pdf")) {
    const { text, pages } = await pdfText(bytes, o.name);
    return { ...cut(text, o.maxChars), pages };
  }
  if (sniffed) return undefined;
  if (isTextLike(bytes, o.mime, o.name)) {
    // TextDecoder drops the byte-order mark itself.
    return cut(new TextDecoder(bomEncoding(bytes)).decode(bytes), o.maxChars);
  }
  // Text that is not UTF-8 (a spreadsheet exported on Windows, an old log) is almost always Windows-1252.
  if (textishName(o.mime, o.name) && !bytes.includes(0) && declaredCharsetIsLegacy(o.mime)) {
    return cut(new TextDecoder("windows-1252").decode(bytes), o.maxChars);
  }
  return undefined;
}

/** No charset, or one other than UTF-8/16: a declared utf-8 that does not decode is binary, not Latin-1. */
function declaredCharsetIsLegacy(mime: string): boolean {
  const charset = /;\s*charset="?([^";\s]+)/i.exec(mime)?.[1]?.toLowerCase();
  return !charset?.startsWith("utf");
}

function cut(text: string, maxChars: number): FileText {
  const kept = cutText(text, maxChars);
  return { text: kept, truncated: kept.length < text.length };
}

interface PdfJsError {
  name?: string;
  message?: string;
}

async function pdfText(bytes: Buffer, name: string | undefined): Promise<{ text: string; pages: number }> {
  if (sniffMime(bytes) !== "application/pdf")
    throw new PdfReadError(name, "the file does not start like a PDF");
  // Loaded on the first PDF only: PDF.js is large and most gateways never see one.
  const { getDocumentProxy, extractText } = await import("unpdf");
  // PDF.js takes ownership of (and may detach) the array it is given, so it gets a copy.
  let doc: Awaited<ReturnType<typeof getDocumentProxy>> | undefined;
  try {
    doc = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
    const { text, totalPages } = await extractText(doc, { mergePages: true });
    return { text: text.trim() ? text : "", pages: totalPages };
  } catch (err) {
    const e = err as PdfJsError;
    if (e.name === "PasswordException")
      throw new PdfReadError(name, "it is protected by a password; send a copy without one");
    throw new PdfReadError(name, e.message ?? String(err));
  } finally {
    // The document's memory (fonts, parsed objects) goes with its loading task.
    await doc?.loadingTask.destroy().catch(() => {});
  }
}
