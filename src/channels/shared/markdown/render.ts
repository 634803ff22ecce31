// One walk over marked's tokens for every platform: the block layout (paragraphs, lists, quotes, tables, code)
// is the same everywhere, only the marks differ, and a Dialect supplies those. Every mark a dialect writes wraps
// the output of one token, so whatever it opens closes around that token's content: nesting is by construction.
import { parseMarkdown, type Token, type Tokens } from "./parse.ts";
import type { Align } from "./table.ts";

/** Where inline content sits; a dialect drops marks the platform cannot nest there. */
export interface Inline {
  /** Inside bold already (a bold line for a heading included): a nested bold adds nothing. */
  strong: boolean;
  em: boolean;
  del: boolean;
  /** Inside a link's label. */
  link: boolean;
}

export interface Dialect {
  /** Literal text as the platform must receive it (escaped where it reads markup). */
  text(s: string): string;
  /** A backslash escape: the character, or the escape itself where the platform reads Markdown too. */
  escape(ch: string, raw: string): string;
  strong(inner: string): string;
  em(inner: string): string;
  del(inner: string): string;
  code(s: string, at: Inline): string;
  /** `href` is http(s); `label` is the label's visible text, `inner` the label rendered. */
  link(inner: string, label: string, href: string): string;
  image(alt: string, href: string): string;
  /** A heading (depth 1-6); `inner` is rendered as inside bold from depth boldHeadingsFrom on. */
  heading(inner: string, depth: number): string;
  boldHeadingsFrom: number;
  codeBlock(text: string, lang: string): string;
  /** A quoted block; `depth` counts the quotes around it (0 for the outermost). */
  quote(inner: string, depth: number): string;
  /** A table's cells as visible text; `sourceLength` is what the Markdown table took. */
  table(rows: string[][], sourceLength: number, align: Align[]): string;
  hr: string;
  /** The marker of an unordered list item at nesting `depth` (0 = top level), space included. */
  bullet(depth: number): string;
}

export function renderMarkdown(md: string, d: Dialect): string {
  let out = "";
  try {
    out = new Walk(d).blocks(parseMarkdown(md), 0, 0).trim();
  } catch {
    // Nesting deep enough to overflow the walk's stack: formatting is a courtesy, the text still goes.
  }
  // Markup with nothing to show (an empty fence, a lone reference definition): the source, rather than nothing.
  return out || d.text(md.trim());
}

const NONE: Inline = { strong: false, em: false, del: false, link: false };

/** http(s) only: other schemes (javascript:, file:, relative paths) are shown as text, never linked. */
export function linkable(href: string): boolean {
  return /^https?:\/\/[^\s]/i.test(href);
}

class Walk {
  readonly d: Dialect;
  constructor(d: Dialect) {
    this.d = d;
  }

  /** Blocks one per line; a blank line in the source (a "space" token) stays one blank line. */
  blocks(tokens: Token[], listDepth: number, quoteDepth: number): string {
    const out: string[] = [];
    let blank = false;
    for (const t of tokens) {
      if (t.type === "space") {
        blank = out.length > 0;
        continue;
      }
      const s = this.block(t, listDepth, quoteDepth);
      if (!s) continue;
      if (blank) out.push("");
      out.push(s);
      blank = false;
    }
    return out.join("\n");
  }

  block(t: Token, listDepth: number, quoteDepth: number): string {
    const d = this.d;
    switch (t.type) {
      case "paragraph":
        return this.inline(t.tokens ?? [], NONE);
      case "text":
        return t.tokens ? this.inline(t.tokens, NONE) : d.text(t.text);
      case "heading": {
        const at = t.depth >= d.boldHeadingsFrom ? { ...NONE, strong: true } : NONE;
        const inner = this.inline(t.tokens ?? [], at);
        return inner && d.heading(inner, t.depth);
      }
      case "code":
        return t.text ? d.codeBlock(t.text.replace(/\n+$/, ""), t.lang ?? "") : "";
      case "blockquote": {
        const inner = this.blocks(t.tokens ?? [], listDepth, quoteDepth + 1);
        return inner && d.quote(inner, quoteDepth);
      }
      case "list":
        return this.list(t as Tokens.List, listDepth, quoteDepth);
      case "table": {
        const table = t as Tokens.Table;
        const rows = [table.header, ...table.rows].map((row) => row.map((c) => visible(c.tokens)));
        return d.table(rows, table.raw.trim().length, table.align);
      }
      case "hr":
        return d.hr;
      case "html":
        return d.text(t.text.replace(/\n+$/, ""));
      case "def":
        // A reference definition is used by its links; on its own it shows nothing.
        return "";
      default:
        return d.text(t.raw.replace(/\n+$/, ""));
    }
  }

  list(list: Tokens.List, depth: number, quoteDepth: number): string {
    const start = typeof list.start === "number" ? list.start : 1;
    const items = list.items.map((item, i) => {
      const marker = list.ordered ? `${start + i}. ` : this.d.bullet(depth);
      const tokens = item.tokens.filter((t) => t.type !== "checkbox");
      const box = item.task ? (item.checked ? "☑ " : "☐ ") : "";
      const body = this.blocks(tokens, depth + 1, quoteDepth);
      const pad = " ".repeat([...marker].length);
      return marker + box + body.replace(/\n(?!\n)/g, `\n${pad}`);
    });
    return items.join(list.loose ? "\n\n" : "\n");
  }

  inline(tokens: Token[], at: Inline): string {
    let out = "";
    for (const t of tokens) out += this.span(t, at);
    return out;
  }

  span(t: Token, at: Inline): string {
    const d = this.d;
    switch (t.type) {
      case "text":
        return t.tokens ? this.inline(t.tokens, at) : d.text(t.text);
      case "escape":
        return d.escape(t.text, t.raw);
      case "strong": {
        const inner = this.inline(t.tokens ?? [], { ...at, strong: true });
        return at.strong || !inner ? inner : d.strong(inner);
      }
      case "em": {
        const inner = this.inline(t.tokens ?? [], { ...at, em: true });
        return at.em || !inner ? inner : d.em(inner);
      }
      case "del": {
        const inner = this.inline(t.tokens ?? [], { ...at, del: true });
        return at.del || !inner ? inner : d.del(inner);
      }
      case "codespan":
        return d.code(t.text, at);
      case "br":
        return "\n";
      case "link": {
        const link = t as Tokens.Link;
        // Platforms link bare URLs and addresses themselves.
        if (link.autolink) return d.text(link.text);
        const label = visible(link.tokens);
        const inner = this.inline(link.tokens, { ...at, link: true });
        if (!linkable(link.href)) return `${inner}${d.text(` (${link.href})`)}`;
        return d.link(inner || d.text(link.href), label || link.href, link.href);
      }
      case "image": {
        const image = t as Tokens.Image;
        // A link cannot hold another link: inside a label, an image is its alt text.
        if (at.link || !linkable(image.href)) return d.text(image.text || image.href);
        return d.image(image.text, image.href);
      }
      case "html":
        return d.text(t.text);
      default:
        return d.text(t.raw);
    }
  }
}

/** What a reader sees of inline tokens: the text without any marks. */
export function visible(tokens: Token[] | undefined): string {
  let out = "";
  for (const t of tokens ?? []) {
    switch (t.type) {
      case "br":
        out += "\n";
        break;
      case "html":
      case "codespan":
      case "escape":
        out += t.text;
        break;
      case "image":
        out += t.text;
        break;
      default: {
        const g = t as Tokens.Generic;
        out += g.tokens ? visible(g.tokens) : typeof g.text === "string" ? g.text : g.raw;
      }
    }
  }
  return out;
}
