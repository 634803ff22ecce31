// What a Telegram message carries besides its text, as Attachments (src/core/event.ts). Pure. Files are named
// by file_id, which fetchTelegramFile (files.ts) resolves with getFile; locations, venues and contacts carry
// their data inline. https://core.telegram.org/bots/api#message
import type { Attachment } from "../../core/event.ts";
import type { TgMessage } from "./types.ts";

type TgFile = { file_id: string; file_name?: string; mime_type?: string; file_size?: number };

function fileAttachment(kind: Attachment["kind"], f: TgFile, mime?: string): Attachment {
  return {
    kind,
    platformId: f.file_id,
    ...(f.file_name ? { name: f.file_name } : {}),
    ...((f.mime_type ?? mime) ? { mime: f.mime_type ?? mime } : {}),
    ...(f.file_size !== undefined ? { size: f.file_size } : {}),
  };
}

/** A message has at most one kind of media; the order here only matters for Telegram's backward-compatible duplicates. */
export function attachmentsOf(msg: TgMessage): Attachment[] {
  const out: Attachment[] = [];
  if (msg.photo?.length) {
    // The sizes of one photo, smallest first as a rule; the largest is the picture the user sent.
    const largest = msg.photo.reduce((a, b) =>
      b.width * b.height > a.width * a.height ||
      (b.width * b.height === a.width * a.height && (b.file_size ?? 0) > (a.file_size ?? 0))
        ? b
        : a,
    );
    // Telegram re-encodes every photo as JPEG.
    out.push(fileAttachment("image", largest, "image/jpeg"));
  }
  if (msg.voice) out.push(fileAttachment("voice", msg.voice, "audio/ogg"));
  if (msg.audio) out.push(fileAttachment("audio", msg.audio));
  if (msg.video) out.push(fileAttachment("video", msg.video));
  if (msg.video_note) out.push(fileAttachment("video", msg.video_note, "video/mp4"));
  // An animation also arrives as `document` (for old clients): it is one file, a video.
  if (msg.animation) out.push(fileAttachment("video", msg.animation, "video/mp4"));
  else if (msg.document) out.push(fileAttachment("file", msg.document));
  if (msg.sticker) {
    const s = msg.sticker;
    const mime = s.is_animated ? "application/x-tgsticker" : s.is_video ? "video/webm" : "image/webp";
    out.push({ ...fileAttachment("sticker", s, mime), ...(s.emoji ? { alt: s.emoji } : {}) });
  }
  // A venue also arrives as `location`: it is one place, with its name and address.
  const venue = msg.venue;
  const place = venue?.location ?? msg.location;
  if (place) {
    out.push({
      kind: "location",
      location: {
        latitude: place.latitude,
        longitude: place.longitude,
        ...(venue ? { name: venue.title, address: venue.address } : {}),
      },
    });
  }
  if (msg.contact) {
    const c = msg.contact;
    out.push({
      kind: "contact",
      contact: { name: [c.first_name, c.last_name].filter(Boolean).join(" "), phone: c.phone_number },
    });
  }
  return out;
}
