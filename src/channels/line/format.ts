// LINE message objects: text (5,000 chars), image (https original + preview), and buttons as quick replies
// (up to 13 postback actions, labels of 20 chars, data of 300). LINE counts UTF-16 units like JavaScript; every
// cut ends on a character boundary (cutText), so an emoji at a limit is dropped whole, never halved.
import { cutText } from "../../core/text-cut.ts";

export type LineMessage = Record<string, unknown>;

export const LINE_TEXT_MAX = 5000;
export const LINE_MESSAGES_PER_CALL = 5;
export const LINE_POSTBACK_DATA_MAX = 300;
const QUICK_REPLY_MAX = 13;
const LABEL_MAX = 20;
const DISPLAY_TEXT_MAX = 300;

export function textMessage(text: string): LineMessage {
  return { type: "text", text: cutText(text, LINE_TEXT_MAX) };
}

export function imageMessage(originalUrl: string, previewUrl: string): LineMessage {
  return { type: "image", originalContentUrl: originalUrl, previewImageUrl: previewUrl };
}

export function withQuickReplies(
  message: LineMessage,
  buttons: { label: string; data: string }[],
): LineMessage {
  if (buttons.length === 0) return message;
  return {
    ...message,
    quickReply: {
      items: buttons.slice(0, QUICK_REPLY_MAX).map((b) => ({
        type: "action",
        action: {
          type: "postback",
          label: cutText(b.label, LABEL_MAX),
          data: b.data,
          displayText: cutText(b.label, DISPLAY_TEXT_MAX),
        },
      })),
    },
  };
}

export function batches<T>(items: T[], size = LINE_MESSAGES_PER_CALL): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
