// Outgoing text: the agent writes Markdown; Telegram shows HTML (its most forgiving parse mode). The converter
// only ever emits balanced tags over escaped text, and the adapter still falls back to plain text when Telegram
// refuses the markup. Buttons become an inline keyboard.
import type { InlineKeyboard } from "./client.ts";

export const TELEGRAM_MAX_TEXT = 4096;
export const TELEGRAM_MAX_CAPTION = 1024;
export const TELEGRAM_MAX_CALLBACK_BYTES = 64;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A conservative Markdown subset → Telegram HTML: fenced and inline code, bold, italic, strike, links. */
export function markdownToTelegramHtml(md: string): string {
  const parts: string[] = [];
  // Fenced blocks first: nothing inside them is formatting. An unclosed fence (a stream mid-block) stays text.
  const fence = /```([A-Za-z0-9_+-]*)\n?([\s\S]*?)```/g;
  let last = 0;
  for (let m = fence.exec(md); m; m = fence.exec(md)) {
    parts.push(inline(md.slice(last, m.index)));
    const lang = m[1] ? ` class="language-${m[1]}"` : "";
    parts.push(`<pre><code${lang}>${escapeHtml(m[2]!.replace(/\n$/, ""))}</code></pre>`);
    last = m.index + m[0].length;
  }
  parts.push(inline(md.slice(last)));
  return parts.join("");
}

function inline(text: string): string {
  const out: string[] = [];
  const code = /`([^`\n]+)`/g;
  let last = 0;
  for (let m = code.exec(text); m; m = code.exec(text)) {
    out.push(spans(text.slice(last, m.index)));
    out.push(`<code>${escapeHtml(m[1]!)}</code>`);
    last = m.index + m[0].length;
  }
  out.push(spans(text.slice(last)));
  return out.join("");
}

function spans(text: string): string {
  let s = escapeHtml(text);
  s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g, (_m, label: string, url: string) => {
    return `<a href="${url.replace(/"/g, "&quot;")}">${label}</a>`;
  });
  s = s.replace(/\*\*(?=\S)([^*\n]+?)\*\*/g, "<b>$1</b>");
  s = s.replace(/__(?=\S)([^_\n]+?)__/g, "<b>$1</b>");
  s = s.replace(/~~(?=\S)([^~\n]+?)~~/g, "<s>$1</s>");
  s = s.replace(/(^|[^*\w])\*(?=\S)([^*\n]+?)\*(?![*\w])/g, "$1<i>$2</i>");
  s = s.replace(/(^|[^_\w])_(?=\S)([^_\n]+?)_(?![_\w])/g, "$1<i>$2</i>");
  s = s.replace(/^#{1,6} +(.+)$/gm, "<b>$1</b>");
  return s;
}

/** Up to three buttons share a row; more go two to a row so labels stay readable on a phone. */
export function inlineKeyboard(buttons: { text: string; data: string }[]): InlineKeyboard {
  const perRow = buttons.length <= 3 ? buttons.length : 2;
  const rows: InlineKeyboard = [];
  for (let i = 0; i < buttons.length; i += perRow) {
    rows.push(buttons.slice(i, i + perRow).map((b) => ({ text: b.text, callback_data: b.data })));
  }
  return rows;
}
