// Slack text and Block Kit: escaping for mrkdwn, the message body with buttons as an actions block.
import { cutText } from "../../core/text-cut.ts";
import type { Button } from "../types.ts";

/** Slack escapes &, < and > in message text; turn them back (links and mentions keep their <…> form). */
export function decodeSlackText(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Our text may contain &, < and >: escape them so Slack shows them instead of reading markup. */
export function encodeSlackText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export const SECTION_MAX = 3000;
export const BUTTON_LABEL_MAX = 75;
const ACTIONS_MAX = 25;

/**
 * Section blocks for the text (3000 chars each, cut between characters, never inside an emoji) and an actions
 * block with up to 25 buttons.
 */
export function slackBlocks(text: string, buttons: Button[]): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [];
  for (let rest = text; rest; ) {
    const part = cutText(rest, SECTION_MAX);
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
