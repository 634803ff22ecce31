// A user turn's stored parts (src/store/types.ts MessagePart) as the content parts the agent receives: pictures
// from the media store as data URLs (or signed clawgate links with agent.imageTransport "url"), audio as
// input_audio, text as text. Pictures are the heavy part of a request, and every turn re-sends the history, so
// only the newest few are sent as pictures; older ones (and expired ones) become a short note.
import { inputAudioFormat } from "../media/audio/input-audio.ts";
import type { MediaService } from "../media/service.ts";
import type { MessagePart, StoredMedia } from "../store/types.ts";
import type { ChatPart, ChatTurn } from "../targets/types.ts";

/** Pictures sent per request, newest first: enough for "compare these two" without resending a whole album. */
export const MAX_IMAGES_PER_REQUEST = 4;
const LINK_TTL_SEC = 3600;

/** What a part needs of a stored file. */
export type KeptFile = Pick<StoredMedia, "id" | "owner" | "mime" | "bytes">;

export interface WireOptions {
  media: MediaService;
  /** Files stored moments ago for the new message: used as they are instead of read back from the store. */
  fresh?: Map<string, KeptFile>;
  transport: "data" | "url";
  /** The conversation cannot take pictures (its model refused them): send notes instead. */
  noImages: boolean;
}

export interface StoredTurn {
  role: "user" | "assistant";
  text: string;
  parts: MessagePart[] | null;
}

/** All turns, oldest first, with the picture budget spent from the newest turn backwards. */
export async function wireTurns(turns: StoredTurn[], o: WireOptions): Promise<ChatTurn[]> {
  let budget = o.noImages ? 0 : MAX_IMAGES_PER_REQUEST;
  const out: ChatTurn[] = [];
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i]!;
    if (!t.parts?.length) {
      out.push({ role: t.role, content: t.text });
      continue;
    }
    const parts: ChatPart[] = t.text.trim() ? [{ type: "text", text: t.text }] : [];
    for (const p of t.parts) {
      if (p.type === "text") parts.push({ type: "text", text: p.text });
      else if (p.type === "image") {
        const part = budget > 0 ? await imagePart(p, o) : undefined;
        if (part) budget--;
        const label = `picture${p.name ? ` "${p.name}"` : ""}`;
        const why = o.noImages ? "left out: this model cannot see pictures" : "not shown again";
        parts.push(part ?? { type: "text", text: `[${label} ${why}]` });
      } else {
        parts.push(await audioPart(p, o));
      }
    }
    out.push({ role: t.role, content: parts.length ? parts : t.text });
  }
  return out.reverse();
}

async function imagePart(
  p: Extract<MessagePart, { type: "image" }>,
  o: WireOptions,
): Promise<ChatPart | undefined> {
  const stored = o.fresh?.get(p.mediaId) ?? (await o.media.files.read(p.mediaId));
  if (!stored) return undefined;
  if (o.transport === "url") {
    const url = o.media.linkTo(
      { id: stored.id, mime: stored.mime, owner: stored.owner, ...(p.name ? { name: p.name } : {}) },
      LINK_TTL_SEC,
    );
    if (url) return { type: "image_url", image_url: { url } };
  }
  return {
    type: "image_url",
    image_url: { url: `data:${stored.mime};base64,${stored.bytes.toString("base64")}` },
  };
}

/** Audio was converted to wav or mp3 on arrival; anything else (or an expired file) becomes a note. */
async function audioPart(p: Extract<MessagePart, { type: "audio" }>, o: WireOptions): Promise<ChatPart> {
  const stored = await o.media.files.read(p.mediaId);
  const format = stored ? inputAudioFormat(stored.mime) : undefined;
  if (!stored || !format) return { type: "text", text: "[a voice message, no longer kept]" };
  return { type: "input_audio", input_audio: { data: stored.bytes.toString("base64"), format } };
}
