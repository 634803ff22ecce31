// Slack text and Block Kit: the agent's Markdown as mrkdwn, the message body with buttons as an actions block.
import { cutText } from "../../core/text-cut.ts";
import { escapeSlack, toSlackMrkdwn } from "../shared/markdown/index.ts";
import type { Button } from "../types.ts";

/** Slack escapes &, < and > in message text; turn them back (links and mentions keep their <…> form). */
export function decodeSlackText(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Our text may contain &, < and >: escape them so Slack shows them instead of reading markup. */
export const encodeSlackText = escapeSlack;

/** The agent's Markdown as mrkdwn (Slack gets formatting, not asterisks); Slack refuses an empty text. */
export function slackText(md: string): string {
  return toSlackMrkdwn(md) || " ";
}

export const SECTION_MAX = 3000;
export const BUTTON_LABEL_MAX = 75;
const ACTIONS_MAX = 25;

/**
 * Section blocks for the text (3000 chars each, cut after a line where one is near, so a line's marks and links
 * stay in one section, else between characters, never inside an emoji) and an actions block with up to 25
 * buttons.
 */
export function slackBlocks(text: string, buttons: Button[]): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  for (let rest = text; rest; ) {
    let part = cutText(rest, SECTION_MAX);
    const line = part.lastIndexOf("\n");
    if (part.length < rest.length && line >= SECTION_MAX / 2) part = part.slice(0, line + 1);
    blocks.push({ type: "section", text: { type: "mrkdwn", text: part } });
    rest = rest.slice(part.length);
  }
  blocks.push({
    type: "actions",
    block_id: "clawgate_actions",
    elements: buttons.slice(0, ACTIONS_MAX).map((b, i) => ({
      type: "button",
      action_id: `clawgate_${i}`,
      text: { type: "plain_text", text: cutText(b.label, BUTTON_LABEL_MAX), emoji: true },
      value: b.value,
      ...(b.style ? { style: b.style } : {}),
    })),
  });
  return blocks;
}
