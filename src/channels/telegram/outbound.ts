// How one outgoing message becomes Bot API calls: text and files in order, a picture as a native photo (sendPhoto,
// up to 10 MB) and anything else, or a larger picture, as a document (sendDocument, up to 50 MB). A short text
// rides as the caption of a single file; a caption over Telegram's 1024 characters goes as its own message
// before the file. A file over 50 MB cannot be uploaded by a bot: a note says so instead. Pure.
// https://core.telegram.org/bots/api#sending-files
import type { MediaItem, OutboundMessage } from "../types.ts";
import { TELEGRAM_MAX_CAPTION } from "./format.ts";

export const TELEGRAM_MAX_PHOTO_UPLOAD = 10 * 1024 * 1024;
export const TELEGRAM_MAX_FILE_UPLOAD = 50 * 1024 * 1024;

export type TgStep =
  | { kind: "text"; text: string; withKeyboard: boolean }
  | { kind: "photo" | "document"; item: MediaItem; caption?: string; withKeyboard: boolean };

const PHOTO_TYPES = /^image\/(jpeg|png|webp)$/i;

const sizeOf = (item: MediaItem) => Buffer.byteLength(item.dataBase64, "base64");
const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

export function sendSteps(message: OutboundMessage): TgStep[] {
  const media = message.media ?? [];
  const steps: TgStep[] = [];
  // One file with a short text: a single message with the text as its caption.
  const captionFits =
    media.length === 1 &&
    !media[0]!.caption &&
    message.text.length <= TELEGRAM_MAX_CAPTION &&
    sizeOf(media[0]!) <= TELEGRAM_MAX_FILE_UPLOAD;
  if (message.text && !captionFits) {
    steps.push({ kind: "text", text: message.text, withKeyboard: media.length === 0 });
  }
  for (const [i, item] of media.entries()) {
    const withKeyboard = i === media.length - 1;
    const size = sizeOf(item);
    if (size > TELEGRAM_MAX_FILE_UPLOAD) {
      steps.push({
        kind: "text",
        text: `(${item.filename} could not be sent: it is ${mb(size)}, and Telegram bots can send files of up to 50 MB)`,
        withKeyboard,
      });
      continue;
    }
    let caption = captionFits ? message.text : item.caption;
    if (caption && caption.length > TELEGRAM_MAX_CAPTION) {
      steps.push({ kind: "text", text: caption, withKeyboard: false });
      caption = undefined;
    }
    const photo = PHOTO_TYPES.test(item.mime) && size <= TELEGRAM_MAX_PHOTO_UPLOAD;
    steps.push({ kind: photo ? "photo" : "document", item, ...(caption ? { caption } : {}), withKeyboard });
  }
  return steps;
}
