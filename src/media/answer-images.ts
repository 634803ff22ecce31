// Pictures in an agent's answer, sent as pictures: Markdown images `![alt](url)` (http(s) or data URLs, also what
// an agent's image content parts become) and bare image links on a line of their own from hosts the operator
// listed (agent.answerImageHosts). Found with a Markdown parser, so an image inside a code block stays code.
// Each is fetched through the URL guard within the size limit and must be a picture by its bytes; what cannot be
// fetched stays in the text as a link, so nothing the agent wrote is lost.
import { Lexer, type Token, type Tokens } from "marked";
import type { MediaItem } from "../channels/types.ts";
import { type FetchPolicy, guardedFetch } from "../security/url-guard.ts";
import { extensionFor, isImage } from "./content-type.ts";
import { sniffMime } from "./sniff.ts";

/** Pictures taken from one answer; more stay links. */
export const MAX_ANSWER_IMAGES = 4;

export interface AnswerImagesOptions {
  policy: FetchPolicy;
  maxBytes: number;
  /** Hosts whose bare image links are fetched (lower-case). */
  bareLinkHosts: string[];
  timeoutMs?: number;
}

interface Found {
  /** The exact source text to remove once fetched. */
  raw: string;
  url: string;
  alt: string;
}

const BARE_IMAGE = /^https:\/\/[^\s]+\.(?:png|jpe?g|gif|webp)(?:\?[^\s]*)?$/i;

/** Finds the images; pure (no fetching), for tests and for the fetcher below. */
export function findAnswerImages(text: string, bareLinkHosts: string[]): Found[] {
  const found: Found[] = [];
  const hosts = new Set(bareLinkHosts.map((h) => h.toLowerCase()));
  const walk = (tokens: Token[]) => {
    for (const t of tokens) {
      if (t.type === "code" || t.type === "codespan" || t.type === "html") continue;
      if (t.type === "image") {
        const img = t as Tokens.Image;
        found.push({ raw: img.raw, url: img.href, alt: img.text });
        continue;
      }
      if (t.type === "paragraph") {
        const line = (t as Tokens.Paragraph).text.trim();
        if (BARE_IMAGE.test(line) && hosts.has(new URL(line).hostname.toLowerCase())) {
          found.push({ raw: line, url: line, alt: "" });
          continue;
        }
      }
      const children = (t as { tokens?: Token[] }).tokens;
      if (children) walk(children);
      if (t.type === "list") for (const item of (t as Tokens.List).items) walk(item.tokens);
    }
  };
  walk(new Lexer().lex(text));
  return found.slice(0, MAX_ANSWER_IMAGES);
}

/** The answer's text without the pictures that were fetched, and the pictures as media. */
export async function takeAnswerImages(
  text: string,
  o: AnswerImagesOptions,
): Promise<{ text: string; media: MediaItem[] }> {
  const found = findAnswerImages(text, o.bareLinkHosts);
  const media: MediaItem[] = [];
  let rest = text;
  for (const [i, f] of found.entries()) {
    const bytes = await fetchImage(f.url, o).catch(() => undefined);
    const mime = bytes ? sniffMime(bytes) : undefined;
    if (!bytes || !mime || !isImage(mime)) continue;
    const filename = `image-${i + 1}.${extensionFor(mime)}`;
    media.push({
      dataBase64: bytes.toString("base64"),
      mime,
      filename,
      ...(f.alt ? { caption: f.alt } : {}),
    });
    rest = rest.replace(f.raw, f.alt ? `(${f.alt})` : "");
  }
  return { text: media.length ? rest.replace(/\n{3,}/g, "\n\n").trim() : text, media };
}

async function fetchImage(url: string, o: AnswerImagesOptions): Promise<Buffer | undefined> {
  const data = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]+)$/i.exec(url);
  if (data) {
    const bytes = Buffer.from(data[2]!.replace(/\s+/g, ""), "base64");
    return bytes.length <= o.maxBytes ? bytes : undefined;
  }
  if (!/^https?:\/\//i.test(url)) return undefined;
  const res = await guardedFetch(url, o.policy, { maxBytes: o.maxBytes, timeoutMs: o.timeoutMs ?? 20_000 });
  return res.status >= 200 && res.status < 300 ? res.body : undefined;
}
