// SkillResponse 2.0: at most 3 outputs, simpleText ≤ 1000 characters, at most 10 quick replies. Buttons become
// quick replies whose tap sends the label back as the utterance (reply-choices maps it to the button's value).
import { chunkText } from "../../core/text-chunk.ts";
import type { Button } from "../types.ts";

const MAX_OUTPUTS = 3;
const MAX_TEXT = 1000;
const MAX_QUICK_REPLIES = 10;
/** Kakao cuts quick-reply labels at 14 characters. */
const MAX_LABEL = 14;

export type SkillOutput =
  | { simpleText: { text: string } }
  | { simpleImage: { imageUrl: string; altText: string } };

export interface SkillResponse {
  version: "2.0";
  template: {
    outputs: SkillOutput[];
    quickReplies?: { label: string; action: "message"; messageText: string }[];
  };
}

export function skillResponse(
  text: string,
  buttons: Button[] = [],
  images: SkillOutput[] = [],
): SkillResponse {
  const room = Math.max(1, MAX_OUTPUTS - images.length);
  const chunks = chunkText(text || " ", MAX_TEXT);
  if (chunks.length > room) {
    chunks.length = room;
    const note = "… (shortened: KakaoTalk shows at most 3 speech bubbles)";
    chunks[room - 1] = `${chunks[room - 1]!.slice(0, MAX_TEXT - note.length)}${note}`;
  }
  const outputs: SkillOutput[] = [
    ...images.slice(0, MAX_OUTPUTS - 1),
    ...chunks.map((t) => ({ simpleText: { text: t } })),
  ];
  const response: SkillResponse = { version: "2.0", template: { outputs } };
  if (buttons.length) {
    response.template.quickReplies = buttons.slice(0, MAX_QUICK_REPLIES).map((b) => ({
      label: [...b.label].slice(0, MAX_LABEL).join(""),
      action: "message",
      messageText: b.label,
    }));
  }
  return response;
}

export const callbackAck = { version: "2.0", useCallback: true } as const;
