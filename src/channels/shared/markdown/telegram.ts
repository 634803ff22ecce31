// Telegram's HTML parse mode (its most forgiving one): b, i, s, a href, code, pre, pre>code class, blockquote.
// Every character of the text is escaped and every tag wraps exactly one token's output, so the HTML is
// well-formed by construction, whatever the input; HTML the agent wrote arrives as text. Telegram's nesting
// rules are kept: nothing inside code or pre, no code inside a link, no blockquote inside a blockquote.
import { type Dialect, renderMarkdown } from "./render.ts";
import { tableText } from "./table.ts";

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeAttr(s: string): string {
  return escapeHtml(s).replace(/"/g, "&quot;");
}

const telegram: Dialect = {
  text: escapeHtml,
  escape: (ch) => escapeHtml(ch),
  strong: (inner) => `<b>${inner}</b>`,
  em: (inner) => `<i>${inner}</i>`,
  del: (inner) => `<s>${inner}</s>`,
  code: (s, at) => (at.link ? escapeHtml(s) : `<code>${escapeHtml(s)}</code>`),
  link: (inner, _label, href) => `<a href="${escapeAttr(href)}">${inner}</a>`,
  image: (alt, href) => `<a href="${escapeAttr(href)}">${escapeHtml(alt || href)}</a>`,
  heading: (inner) => `<b>${inner}</b>`,
  boldHeadingsFrom: 1,
  codeBlock: (text, lang) => {
    // Only a plain language name goes into the attribute: nothing there to escape or to break out of.
    const cls = /^[A-Za-z0-9_+-]+$/.test(lang) ? ` class="language-${lang}"` : "";
    return `<pre><code${cls}>${escapeHtml(text)}</code></pre>`;
  },
  quote: (inner, depth) => (depth > 0 || !inner ? inner : `<blockquote>${inner}</blockquote>`),
  table: (rows, sourceLength, align) => `<pre>${escapeHtml(tableText(rows, sourceLength, align))}</pre>`,
  hr: "──────────",
  bullet: (depth) => (depth === 0 ? "• " : "◦ "),
};

/** The agent's Markdown as Telegram HTML (parse_mode "HTML"). */
export function toTelegramHtml(md: string): string {
  const html = renderMarkdown(md, telegram);
  // Markup with nothing to show (an empty code fence): Telegram refuses an empty message, so send the source.
  return telegramVisibleText(html).trim() ? html : escapeHtml(md.trim());
}

/** What Telegram shows of HTML we wrote (the text between the tags, entities read): what its limits count. */
export function telegramVisibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&(lt|gt|quot|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', amp: "&" })[e]!);
}
