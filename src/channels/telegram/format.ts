// Outgoing text: the agent writes Markdown; Telegram shows HTML (its most forgiving parse mode). The Markdown is
// parsed into a tree first and the HTML is written from the tree, so tags always nest and close and every other
// character is escaped: well-formed by construction, whatever the input. Parsing is one left-to-right pass per
// line with lookup tables instead of backtracking regexes, so the work stays linear in the input's length.
// Buttons become an inline keyboard.
import { cutText } from "../../core/text-cut.ts";
import type { InlineKeyboard } from "./client.ts";

export const TELEGRAM_MAX_TEXT = 4096;
export const TELEGRAM_MAX_CAPTION = 1024;
export const TELEGRAM_MAX_CALLBACK_BYTES = 64;
/** Inline keyboard button labels: Telegram shows about this much; longer labels are cut on a character. */
export const TELEGRAM_MAX_BUTTON_LABEL = 64;
/** answerCallbackQuery text: 0-200 characters. */
export const TELEGRAM_MAX_CALLBACK_ANSWER = 200;

export type MdNode =
  | { t: "text"; v: string }
  | { t: "code"; v: string }
  | { t: "pre"; lang: string; v: string }
  | { t: "b" | "i" | "s"; c: MdNode[] }
  | { t: "a"; href: string; c: MdNode[] };

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeAttr(s: string): string {
  return escapeHtml(s).replace(/"/g, "&quot;");
}

/** A conservative Markdown subset → Telegram HTML: fenced and inline code, bold, italic, strike, links, headings. */
export function markdownToTelegramHtml(md: string): string {
  return renderHtml(parseMarkdown(md));
}

/** What Telegram shows for markdownToTelegramHtml(md) once the tags are applied: the same tree, text only. */
export function markdownToPlainText(md: string): string {
  return renderText(parseMarkdown(md));
}

export function renderHtml(nodes: MdNode[]): string {
  let out = "";
  for (const n of nodes) {
    switch (n.t) {
      case "text":
        out += escapeHtml(n.v);
        break;
      case "code":
        out += `<code>${escapeHtml(n.v)}</code>`;
        break;
      case "pre":
        // The language is limited to [A-Za-z0-9_+-] by the parser: nothing to escape in the attribute.
        out += `<pre><code${n.lang ? ` class="language-${n.lang}"` : ""}>${escapeHtml(n.v)}</code></pre>`;
        break;
      case "a":
        out += `<a href="${escapeAttr(n.href)}">${renderHtml(n.c)}</a>`;
        break;
      default:
        out += `<${n.t}>${renderHtml(n.c)}</${n.t}>`;
    }
  }
  return out;
}

export function renderText(nodes: MdNode[]): string {
  let out = "";
  for (const n of nodes) out += n.t === "text" || n.t === "code" || n.t === "pre" ? n.v : renderText(n.c);
  return out;
}

/** Fenced blocks first: nothing inside them is formatting. An unclosed fence (a stream mid-block) stays text. */
export function parseMarkdown(md: string): MdNode[] {
  const out: MdNode[] = [];
  let from = 0;
  for (;;) {
    const open = md.indexOf("```", from);
    if (open < 0) break;
    let start = open + 3;
    while (start < md.length && isLangChar(md.charCodeAt(start))) start++;
    const lang = md.slice(open + 3, start);
    if (md[start] === "\n") start++;
    const close = md.indexOf("```", start);
    if (close < 0) break;
    parseLines(md.slice(from, open), out);
    const body = md.slice(start, close).replace(/\n$/, "");
    // An empty block has nothing to show; Telegram refuses an entity without text.
    if (body) out.push({ t: "pre", lang, v: body });
    from = close + 3;
  }
  parseLines(md.slice(from), out);
  return out;
}

function isLangChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 43 || c === 45
  );
}

/** Formatting never spans a line break (as before): each line is parsed on its own. */
function parseLines(text: string, out: MdNode[]) {
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (i > 0) out.push({ t: "text", v: "\n" });
    const heading = /^#{1,6} +/.exec(line);
    if (heading && heading[0].length < line.length) {
      out.push({ t: "b", c: parseInline(line.slice(heading[0].length)) });
    } else out.push(...parseInline(line));
  }
}

type Kind = "b*" | "b_" | "i*" | "i_" | "s~";

interface Opener {
  kind: Kind;
  /** Index in the node list of the placeholder holding the delimiter's characters. */
  node: number;
}

const WORD = /[\p{L}\p{N}_]/u;
const SPACE = /\s/u;

/**
 * One line → nodes. Code spans and links are found with next-occurrence tables (O(1) per look-up); emphasis
 * uses a delimiter stack: a closer matches the nearest opener of its kind, and openers between the two are
 * dropped back to plain text, so elements can only nest, never overlap.
 */
export function parseInline(s: string): MdNode[] {
  const n = s.length;
  const nextTick = nextIndex(s, (c) => c === "`");
  const nextClose = nextIndex(s, (c) => c === "]");
  const nextOpen = nextIndex(s, (c) => c === "[");
  const nextStop = nextIndex(s, (c) => c === ")" || SPACE.test(c));
  const nodes: MdNode[] = [];
  const stack: Opener[] = [];
  const byKind = new Map<Kind, number[]>();
  let text = "";
  const flush = () => {
    if (text) nodes.push({ t: "text", v: text });
    text = "";
  };
  const dropAbove = (height: number) => {
    while (stack.length > height) byKind.get(stack.pop()!.kind)!.pop();
  };

  let i = 0;
  while (i < n) {
    const c = s[i]!;
    if (c === "`") {
      const close = i + 1 < n ? nextTick[i + 1]! : n;
      if (close < n && close > i + 1) {
        flush();
        nodes.push({ t: "code", v: s.slice(i + 1, close) });
        i = close + 1;
        continue;
      }
    } else if (c === "[") {
      const link = i + 1 < n ? linkAt(s, i, nextClose, nextOpen, nextStop) : undefined;
      if (link) {
        flush();
        nodes.push({ t: "a", href: link.href, c: parseInline(link.label) });
        i = link.end;
        continue;
      }
    } else if (c === "*" || c === "_" || c === "~") {
      let j = i;
      while (j < n && s[j] === c) j++;
      const run = s.slice(i, j);
      const kind = kindOf(c, j - i);
      if (kind) {
        const prev = i > 0 ? s[i - 1]! : "";
        const next = j < n ? s[j]! : "";
        const single = kind[0] === "i";
        const canOpen = next !== "" && !SPACE.test(next) && !(single && prev !== "" && WORD.test(prev));
        const canClose = prev !== "" && !SPACE.test(prev) && !(single && next !== "" && WORD.test(next));
        const openers = byKind.get(kind);
        if (canClose && openers?.length) {
          const at = openers.at(-1)!;
          const opener = stack[at]!;
          dropAbove(at);
          flush();
          const children = nodes.splice(opener.node + 1);
          nodes[opener.node] = { t: kind[0] as "b" | "i" | "s", c: children };
          i = j;
          continue;
        }
        if (canOpen) {
          flush();
          nodes.push({ t: "text", v: run });
          stack.push({ kind, node: nodes.length - 1 });
          if (!byKind.has(kind)) byKind.set(kind, []);
          byKind.get(kind)!.push(stack.length - 1);
          i = j;
          continue;
        }
      }
      text += run;
      i = j;
      continue;
    }
    text += c;
    i++;
  }
  flush();
  return nodes;
}

function kindOf(c: string, len: number): Kind | undefined {
  if (c === "~") return len === 2 ? "s~" : undefined;
  if (len === 1) return c === "*" ? "i*" : "i_";
  if (len === 2) return c === "*" ? "b*" : "b_";
  return undefined;
}

/**
 * `[label](http(s)://url)` at `i`: the label is what lies before the next "]" with no "[" in between (so of
 * nested brackets the innermost pair is the link), the URL runs to the first ")" or space.
 */
function linkAt(
  s: string,
  i: number,
  nextClose: Int32Array,
  nextOpen: Int32Array,
  nextStop: Int32Array,
): { label: string; href: string; end: number } | undefined {
  const n = s.length;
  const close = nextClose[i + 1]!;
  if (close >= n || close === i + 1 || nextOpen[i + 1]! < close || s[close + 1] !== "(") return undefined;
  const start = close + 2;
  if (start >= n) return undefined;
  const stop = nextStop[start]!;
  if (stop >= n || s[stop] !== ")") return undefined;
  const href = s.slice(start, stop);
  if (!/^https?:\/\/./.test(href)) return undefined;
  return { label: s.slice(i + 1, close), href, end: stop + 1 };
}

/** For each position, the index of the next character (at or after it) that matches; s.length when none. */
function nextIndex(s: string, match: (c: string) => boolean): Int32Array {
  const out = new Int32Array(s.length + 1);
  out[s.length] = s.length;
  for (let i = s.length - 1; i >= 0; i--) out[i] = match(s[i]!) ? i : out[i + 1]!;
  return out;
}

/** Up to three buttons share a row; more go two to a row so labels stay readable on a phone. */
export function inlineKeyboard(buttons: { text: string; data: string }[]): InlineKeyboard {
  const perRow = buttons.length <= 3 ? buttons.length : 2;
  const rows: InlineKeyboard = [];
  for (let i = 0; i < buttons.length; i += perRow) {
    rows.push(
      buttons
        .slice(i, i + perRow)
        .map((b) => ({ text: cutText(b.text, TELEGRAM_MAX_BUTTON_LABEL), callback_data: b.data })),
    );
  }
  return rows;
}
