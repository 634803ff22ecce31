// Content parts and the models that cannot take them. A text-only model answers 400 (or 422) to an `image_url`
// part; rather than failing that turn and every later one, the turn is sent again with each picture replaced by
// a short note, and the caller is told so it can say it once and stop sending pictures to that conversation.
import type { ChatPart, ChatTurn, TargetRequest } from "../types.ts";

export const IMAGE_PLACEHOLDER = "[a picture was attached; this model cannot see pictures]";

const hasImage = (content: ChatTurn["content"]) =>
  Array.isArray(content) && content.some((p) => p.type === "image_url");

export function requestHasImages(req: Pick<TargetRequest, "history" | "content">): boolean {
  return (req.content !== undefined && hasImage(req.content)) || req.history.some((t) => hasImage(t.content));
}

/** Parts with each image replaced by the placeholder; plain text again when nothing else is left. */
export function textOnly(content: ChatPart[]): ChatPart[] | string {
  const parts = content.map(
    (p): ChatPart => (p.type === "image_url" ? { type: "text", text: IMAGE_PLACEHOLDER } : p),
  );
  return parts.every((p) => p.type === "text") ? parts.map((p) => p.text).join("\n\n") : parts;
}

export function withoutImages<R extends Pick<TargetRequest, "history" | "content">>(req: R): R {
  const content = req.content === undefined ? undefined : textOnly(req.content);
  return {
    ...req,
    history: req.history.map((t) => (Array.isArray(t.content) ? { ...t, content: textOnly(t.content) } : t)),
    // A request's own content must stay parts or be absent (then event.text is sent): text goes in as one part.
    content: typeof content === "string" ? [{ type: "text", text: content }] : content,
  };
}

/** The status a server gives a request shape it cannot take. */
export function refusesContent(status: number | undefined): boolean {
  return status === 400 || status === 422;
}

/**
 * An answer given as content parts (some servers answer that way, with generated pictures as image_url parts):
 * its text, with each picture written as a Markdown image so the delivery sends it as a picture.
 */
export function answerText(content: unknown): string | undefined {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return undefined;
  const out: string[] = [];
  for (const p of content as { type?: string; text?: unknown; image_url?: { url?: unknown } | string }[]) {
    if (p?.type === "text" && typeof p.text === "string") out.push(p.text);
    const url = typeof p?.image_url === "string" ? p.image_url : p?.image_url?.url;
    if (p?.type === "image_url" && typeof url === "string") out.push(`![image](${url})`);
  }
  return out.join("\n\n");
}
