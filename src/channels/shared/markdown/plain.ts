// Plain text for platforms that show no markup (LINE, SMS, Kakao, WeChat): the marks are dropped, lists get
// "• " bullets, links read "label (url)", quotes a bar, code its text, and tables one "a | b" line per row
// (a proportional font cannot line columns up).
import { type Dialect, renderMarkdown } from "./render.ts";
import { tableRows } from "./table.ts";

const same = (s: string) => s;

const plain: Dialect = {
  text: same,
  escape: same,
  strong: same,
  em: same,
  del: same,
  code: same,
  link: (_inner, label, href) => (label === href ? href : `${label} (${href})`),
  image: (alt, href) => (alt ? `${alt} (${href})` : href),
  heading: same,
  boldHeadingsFrom: 1,
  codeBlock: same,
  quote: (inner) => inner.replace(/^/gm, "│ "),
  table: (rows) => tableRows(rows),
  hr: "──────────",
  bullet: (depth) => (depth === 0 ? "• " : "◦ "),
};

/** The agent's Markdown as plain text. */
export function toPlainText(md: string): string {
  return renderMarkdown(md, plain);
}
