// Slack mrkdwn: *bold*, _italic_, ~strike~, `code`, ``` blocks, <url|label> links, "> " quotes. Slack reads
// &, < and > as markup everywhere (code included), so those three are escaped in all text; it has no headings,
// lists or tables, so headings are bold lines, lists get bullets and tables a monospace block.
import { breakFences } from "./fence.ts";
import { type Dialect, renderMarkdown } from "./render.ts";
import { tableText } from "./table.ts";

export function escapeSlack(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** In <url|label>, "|" and ">" end the URL: encoded, as any browser would read them. */
function slackUrl(href: string): string {
  return href.replace(/&/g, "&amp;").replace(/</g, "%3C").replace(/>/g, "%3E").replace(/\|/g, "%7C");
}

const slack: Dialect = {
  text: escapeSlack,
  escape: (ch) => escapeSlack(ch),
  strong: (inner) => `*${inner}*`,
  em: (inner) => `_${inner}_`,
  del: (inner) => `~${inner}~`,
  code: (s) => `\`${escapeSlack(s)}\``,
  // Slack formats nothing inside a link's label: the label goes as text.
  link: (_inner, label, href) => `<${slackUrl(href)}|${escapeSlack(label)}>`,
  image: (alt, href) => (alt ? `<${slackUrl(href)}|${escapeSlack(alt)}>` : `<${slackUrl(href)}>`),
  heading: (inner) => `*${inner}*`,
  boldHeadingsFrom: 1,
  codeBlock: (text) => `\`\`\`\n${escapeSlack(breakFences(text))}\n\`\`\``,
  // Slack quotes do not nest: the outermost quote marks every line once.
  quote: (inner, depth) => (depth > 0 ? inner : inner.replace(/^/gm, "> ")),
  table: (rows, sourceLength, align) =>
    `\`\`\`\n${escapeSlack(tableText(rows, sourceLength, align))}\n\`\`\``,
  hr: "──────────",
  bullet: (depth) => (depth === 0 ? "• " : "◦ "),
};

/** The agent's Markdown as Slack mrkdwn (message text and section blocks). */
export function toSlackMrkdwn(md: string): string {
  return renderMarkdown(md, slack);
}
