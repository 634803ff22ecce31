// Pictures and files in an agent's answer, sent as pictures and documents. Pictures: Markdown images
// `![alt](url)` (http(s) or data URLs, also what an agent's image content parts become) and bare image links on a
// line of their own from hosts the operator listed (agent.answerMediaHosts). Files: Markdown links to a data URL
// of a document type (`[report.pdf](data:application/pdf;base64,…)`) or to an https URL on a listed host whose
// path ends in a document extension; links anywhere else are never fetched. Found with a Markdown parser, so
// anything inside a code block stays code. Each is fetched through the URL guard within the size limit and must
// be what it claims by its bytes; what cannot be fetched stays in the text as written, so nothing is lost.
import { Lexer, type Token, type Tokens } from "marked";
import type { MediaItem } from "../channels/types.ts";
import { type FetchPolicy, guardedFetch } from "../security/url-guard.ts";
import { extensionFor, isImage } from "./content-type.ts";
import { documentExtension, documentMime, documentTypeOf } from "./document-types.ts";
import { sniffMime } from "./sniff.ts";

/** Pictures, and files, taken from one answer; more stay links. */
export const MAX_ANSWER_IMAGES = 4;
export const MAX_ANSWER_FILES = 4;

export interface AnswerMediaOptions {
  policy: FetchPolicy;
  maxImageBytes: number;
  maxFileBytes: number;
  /** Hosts whose bare image links and file links are fetched (lower-case). */
  mediaHosts: string[];
  timeoutMs?: number;
}

interface FoundBase {
  /** The exact source text to replace once fetched. */
  raw: string;
  url: string;
}

interface FoundFile extends FoundBase {
  kind: "file";
  /** The link text, which stays in the message. */
  text: string;
  mime: string;
}

export type FoundMedia = (FoundBase & { kind: "image"; alt: string }) | FoundFile;

const BARE_IMAGE = /^https:\/\/[^\s]+\.(?:png|jpe?g|gif|webp)(?:\?[^\s]*)?$/i;
const DATA_URL = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)(?:;[a-z0-9=.-]+)*;base64,([A-Za-z0-9+/=\s]+)$/i;

/** Finds the pictures and files; pure (no fetching), for tests and for the fetcher below. */
export function findAnswerMedia(text: string, mediaHosts: string[]): FoundMedia[] {
  const found: FoundMedia[] = [];
  const hosts = new Set(mediaHosts.map((h) => h.toLowerCase()));
  const walk = (tokens: Token[]) => {
    for (const t of tokens) {
      if (t.type === "code" || t.type === "codespan" || t.type === "html") continue;
      if (t.type === "image") {
        const img = t as Tokens.Image;
        found.push({ kind: "image", raw: img.raw, url: img.href, alt: img.text });
        continue;
      }
      if (t.type === "link") {
        const link = t as Tokens.Link;
        const mime = fileLinkType(link.href, hosts);
        if (mime) {
          found.push({ kind: "file", raw: link.raw, url: link.href, text: link.text, mime });
          continue;
        }
      }
      if (t.type === "paragraph") {
        const line = (t as Tokens.Paragraph).text.trim();
        if (BARE_IMAGE.test(line) && hosts.has(new URL(line).hostname.toLowerCase())) {
          found.push({ kind: "image", raw: line, url: line, alt: "" });
          continue;
        }
      }
      const children = (t as { tokens?: Token[] }).tokens;
      if (children) walk(children);
      if (t.type === "list") for (const item of (t as Tokens.List).items) walk(item.tokens);
    }
  };
  walk(new Lexer().lex(text));
  return [
    ...found.filter((f) => f.kind === "image").slice(0, MAX_ANSWER_IMAGES),
    ...found.filter((f) => f.kind === "file").slice(0, MAX_ANSWER_FILES),
  ];
}

/** The document type a link's target names: a data URL's own type, or an https path's extension on a listed host. */
function fileLinkType(href: string, hosts: Set<string>): string | undefined {
  const data = DATA_URL.exec(href);
  if (data) return documentTypeOf({ mime: data[1]! });
  if (!/^https:\/\//i.test(href)) return undefined;
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return undefined;
  }
  if (!hosts.has(url.hostname.toLowerCase())) return undefined;
  return documentTypeOf({ name: lastSegment(url) });
}

const lastSegment = (url: URL): string => {
  const seg = url.pathname.split("/").pop() ?? "";
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
};

/** A file name a user's device can save: no path, no control or shell-hostile characters, an extension. */
export function safeFilename(candidate: string, mime: string): string {
  const base = (candidate.split(/[\\/]/).pop() ?? "")
    .replace(/[\p{Cc}<>:"|?*]/gu, "")
    .replace(/\s+/g, " ")
    .replace(/^[.\s]+|[.\s]+$/g, "")
    .slice(0, 100);
  if (!base) return `file.${documentExtension(mime)}`;
  return /\.[A-Za-z0-9]{1,5}$/.test(base) ? base : `${base}.${documentExtension(mime)}`;
}

/** The name a file goes by: the link text when it names a file, else the URL's last path segment. */
function filenameFor(f: FoundFile, mime: string): string {
  if (/\.[A-Za-z0-9]{1,5}$/.test(f.text.trim()) || f.url.startsWith("data:"))
    return safeFilename(f.text, mime);
  return safeFilename(lastSegment(new URL(f.url)), mime);
}

/** The answer's text without the pictures that were fetched (files keep their link text), and the media. */
export async function takeAnswerMedia(
  text: string,
  o: AnswerMediaOptions,
): Promise<{ text: string; media: MediaItem[] }> {
  const found = findAnswerMedia(text, o.mediaHosts);
  const media: MediaItem[] = [];
  let rest = text;
  let pictures = 0;
  for (const f of found) {
    const maxBytes = f.kind === "image" ? o.maxImageBytes : o.maxFileBytes;
    const bytes = await fetchBytes(f.url, maxBytes, o).catch(() => undefined);
    if (!bytes) continue;
    if (f.kind === "image") {
      const mime = sniffMime(bytes);
      if (!mime || !isImage(mime)) continue;
      const filename = `image-${++pictures}.${extensionFor(mime)}`;
      media.push({
        dataBase64: bytes.toString("base64"),
        mime,
        filename,
        ...(f.alt ? { caption: f.alt } : {}),
      });
      rest = rest.replace(f.raw, f.alt ? `(${f.alt})` : "");
      continue;
    }
    const named = filenameFor(f, f.mime);
    const mime = documentMime(bytes, f.mime, named);
    if (!mime) continue;
    media.push({ dataBase64: bytes.toString("base64"), mime, filename: named });
    rest = rest.replace(f.raw, f.text);
  }
  return { text: media.length ? rest.replace(/\n{3,}/g, "\n\n").trim() : text, media };
}

async function fetchBytes(url: string, maxBytes: number, o: AnswerMediaOptions): Promise<Buffer | undefined> {
  const data = DATA_URL.exec(url);
  if (data) {
    const bytes = Buffer.from(data[2]!.replace(/\s+/g, ""), "base64");
    return bytes.length <= maxBytes ? bytes : undefined;
  }
  if (!/^https?:\/\//i.test(url)) return undefined;
  const res = await guardedFetch(url, o.policy, { maxBytes, timeoutMs: o.timeoutMs ?? 20_000 });
  return res.status >= 200 && res.status < 300 ? res.body : undefined;
}
