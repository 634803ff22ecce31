// Discord renders most of Markdown itself, so the text is written back as Markdown, with what Discord lacks
// replaced: tables become a code block, headings deeper than ### a bold line, images a link, "__bold__"
// (underline on Discord) "**bold**". Discord shows HTML as typed, and backslash escapes keep working.
import { breakFences } from "./fence.ts";
import { type Dialect, renderMarkdown } from "./render.ts";
import { tableText } from "./table.ts";

function fenced(text: string, lang = ""): string {
  return `\`\`\`${lang}\n${breakFences(text)}\n\`\`\``;
}

function codeSpan(s: string): string {
  return s.includes("`") ? `\`\` ${s} \`\`` : `\`${s}\``;
}

/** A destination Discord can read inside (…): no spaces or parentheses. */
function destination(href: string): string {
  return href.replace(/ /g, "%20").replace(/\(/g, "%28").replace(/\)/g, "%29");
}

const same = (s: string) => s;

const discord: Dialect = {
  text: same,
  escape: (_ch, raw) => raw,
  strong: (inner) => `**${inner}**`,
  em: (inner) => `*${inner}*`,
  del: (inner) => `~~${inner}~~`,
  code: (s) => codeSpan(s),
  link: (inner, _label, href) => `[${inner}](${destination(href)})`,
  image: (alt, href) => (alt ? `[${alt}](${destination(href)})` : href),
  heading: (inner, depth) => (depth <= 3 ? `${"#".repeat(depth)} ${inner}` : `**${inner}**`),
  boldHeadingsFrom: 4,
  codeBlock: (text, lang) => fenced(text, /^[\w+-]+$/.test(lang) ? lang : ""),
  // Discord quotes do not nest: the outermost quote marks every line once.
  quote: (inner, depth) => (depth > 0 ? inner : inner.replace(/^/gm, "> ")),
  table: (rows, sourceLength, align) => fenced(tableText(rows, sourceLength, align)),
  hr: "──────────",
  bullet: () => "- ",
};

/** The agent's Markdown as Discord Markdown. */
export function toDiscord(md: string): string {
  return renderMarkdown(md, discord);
}
