// What a Discord message carries besides its text, as Attachments (src/core/event.ts). Pure. Files are named by
// their signed CDN URL (fetched by files.ts without the bot token); stickers by their CDN picture and name.
// https://discord.com/developers/docs/resources/message#attachment-object
import type { Attachment } from "../../core/event.ts";
import type { ParsedMessage } from "./schema.ts";

/** Message flag: a voice message, recorded in the app (one audio/ogg attachment). */
export const IS_VOICE_MESSAGE = 1 << 13;

const BY_EXTENSION: [RegExp, Attachment["kind"]][] = [
  [/\.(jpe?g|png|gif|webp|avif|heic)$/i, "image"],
  [/\.(mp3|m4a|ogg|oga|opus|wav|flac|aac)$/i, "audio"],
  [/\.(mp4|mov|webm|mkv|m4v)$/i, "video"],
];

/** The kind from the declared type; without one (Discord leaves it out for unknown files), from the name. */
function kindOf(type: string | undefined, filename: string): Attachment["kind"] {
  if (type?.startsWith("image/")) return "image";
  if (type?.startsWith("audio/")) return "audio";
  if (type?.startsWith("video/")) return "video";
  if (type) return "file";
  return BY_EXTENSION.find(([re]) => re.test(filename))?.[1] ?? "file";
}

/** Sticker pictures on the CDN: PNG and APNG as .png, GIF as .gif (served by media.discordapp.net); Lottie has none. */
function stickerOf(s: ParsedMessage["sticker_items"][number]): Attachment {
  const alt = s.name ? { alt: s.name } : {};
  if (s.format_type === 4) {
    return {
      kind: "sticker",
      platformId: s.id,
      mime: "image/gif",
      url: `https://media.discordapp.net/stickers/${s.id}.gif`,
      ...alt,
    };
  }
  if (s.format_type === 3) return { kind: "sticker", platformId: s.id, mime: "application/json", ...alt };
  return {
    kind: "sticker",
    platformId: s.id,
    mime: "image/png",
    url: `https://cdn.discordapp.com/stickers/${s.id}.png`,
    ...alt,
  };
}

export function attachmentsOf(msg: ParsedMessage): Attachment[] {
  const voice = ((msg.flags ?? 0) & IS_VOICE_MESSAGE) !== 0;
  const files = msg.attachments.map((a): Attachment => {
    const kind = kindOf(a.content_type, a.filename);
    return {
      kind: voice && kind === "audio" ? "voice" : kind,
      url: a.url,
      platformId: a.id,
      name: a.filename,
      ...(a.content_type ? { mime: a.content_type } : {}),
      ...(a.size !== undefined ? { size: a.size } : {}),
    };
  });
  return [...files, ...msg.sticker_items.map(stickerOf)];
}
