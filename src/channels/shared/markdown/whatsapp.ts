// WhatsApp's formatting: *bold*, _italic_, ~strike~, `inline code`, ```monospace```, "> " quotes, "- " and
// "1. " lists. It has no link syntax (URLs in text are linked by the app), no headings and no tables.
import { breakFences } from "./fence.ts";
import { type Dialect, renderMarkdown } from "./render.ts";
import { tableText } from "./table.ts";

const same = (s: string) => s;

const whatsapp: Dialect = {
  text: same,
  escape: same,
  strong: (inner) => `*${inner}*`,
  em: (inner) => `_${inner}_`,
  del: (inner) => `~${inner}~`,
  code: (s) => `\`${s}\``,
  link: (inner, label, href) => (label === href ? href : `${inner} (${href})`),
  image: (alt, href) => (alt ? `${alt} (${href})` : href),
  heading: (inner) => `*${inner}*`,
  boldHeadingsFrom: 1,
  codeBlock: (text) => `\`\`\`${breakFences(text)}\`\`\``,
  quote: (inner, depth) => (depth > 0 ? inner : inner.replace(/^/gm, "> ")),
  table: (rows, sourceLength, align) => `\`\`\`${tableText(rows, sourceLength, align)}\`\`\``,
  hr: "──────────",
  bullet: () => "- ",
};

/** The agent's Markdown in WhatsApp's own formatting. */
export function toWhatsApp(md: string): string {
  return renderMarkdown(md, whatsapp);
}
