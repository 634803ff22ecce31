// Outgoing text: the agent writes Markdown; Telegram shows HTML (its most forgiving parse mode), written from
// the shared Markdown parse so tags always nest and close and every other character is escaped. Buttons become
// an inline keyboard.
import { cutText } from "../../core/text-cut.ts";
import { escapeHtml, telegramVisibleText, toPlainText, toTelegramHtml } from "../shared/markdown/index.ts";
import type { InlineKeyboard } from "./client.ts";

export const TELEGRAM_MAX_TEXT = 4096;
export const TELEGRAM_MAX_CAPTION = 1024;
export const TELEGRAM_MAX_CALLBACK_BYTES = 64;
/** Inline keyboard button labels: Telegram shows about this much; longer labels are cut on a character. */
export const TELEGRAM_MAX_BUTTON_LABEL = 64;
/** answerCallbackQuery text: 0-200 characters. */
export const TELEGRAM_MAX_CALLBACK_ANSWER = 200;

/**
 * The agent's Markdown as Telegram HTML (src/channels/shared/markdown). Formatting can lengthen what the reader
 * sees (a rule, list numbers); when that would carry text that fit a limit Telegram counts after parsing the
 * tags (4096 for a message, 1024 for a caption) past it, the Markdown goes unformatted instead, so a text the
 * gateway cut to fit always fits.
 */
export function markdownToTelegramHtml(md: string): string {
  const html = toTelegramHtml(md);
  const shown = visibleLength(html);
  for (const limit of [TELEGRAM_MAX_CAPTION, TELEGRAM_MAX_TEXT]) {
    if (md.length <= limit && shown > limit) return escapeHtml(md);
  }
  return html;
}

/** When Telegram refuses the markup: the Markdown as plain text (its source, where that alone would fit). */
export function markdownToPlainText(md: string): string {
  const text = toPlainText(md);
  for (const limit of [TELEGRAM_MAX_CAPTION, TELEGRAM_MAX_TEXT]) {
    if (md.length <= limit && text.length > limit) return md;
  }
  return text;
}

/** What Telegram counts of our HTML against its limits. */
export function visibleLength(html: string): number {
  return telegramVisibleText(html).length;
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
