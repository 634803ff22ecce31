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

/** Shown at the end of the last bubble when an answer does not fit into KakaoTalk's 3 bubbles. */
export const SHORTENED_NOTE =
  "… (shortened: the rest does not fit into the 3 speech bubbles of one KakaoTalk answer)";

/**
 * One SkillResponse for an answer of one or more parts (a multi-part reply gets one response: Kakao takes one
 * answer per request). Each part keeps its own bubble(s) when they fit; otherwise the parts share bubbles, and
 * only when even that does not fit is the last bubble cut with a visible note.
 */
export function skillResponse(
  parts: string | string[],
  buttons: Button[] = [],
  images: SkillOutput[] = [],
): SkillResponse {
  const shownImages = images.slice(0, MAX_OUTPUTS - 1);
  const room = MAX_OUTPUTS - shownImages.length;
  const texts = (Array.isArray(parts) ? parts : [parts]).map((t) => t.trim()).filter(Boolean);
  let bubbles = texts.flatMap((t) => chunkText(t, MAX_TEXT));
  if (bubbles.length > room) bubbles = chunkText(texts.join("\n\n"), MAX_TEXT);
  if (bubbles.length > room) {
    const [last] = chunkText(bubbles[room - 1]!, MAX_TEXT - SHORTENED_NOTE.length - 1);
    bubbles = [...bubbles.slice(0, room - 1), `${last} ${SHORTENED_NOTE}`];
  }
  // Kakao needs at least one output: an answer without text or images still gets an (empty-looking) bubble.
  if (!bubbles.length && !shownImages.length) bubbles = [" "];
  const outputs: SkillOutput[] = [...shownImages, ...bubbles.map((t) => ({ simpleText: { text: t } }))];
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
