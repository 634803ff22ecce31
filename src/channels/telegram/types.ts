// The parts of the Bot API's wire types that clawgate reads (https://core.telegram.org/bots/api#available-types),
// as schemas: an update is checked at the boundary, so the normalizer only ever sees the shapes it reads.
// Unknown fields are allowed (and dropped); a field clawgate reads with the wrong type makes the update unreadable.
import { z } from "zod";

const id = z.number().int().refine(Number.isSafeInteger, "not a safe integer");

export const tgUserSchema = z.object({
  id,
  is_bot: z.boolean().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  username: z.string().optional(),
});

export const tgChatSchema = z.object({
  id,
  /** "private" | "group" | "supergroup" | "channel"; kept open for types Telegram may add. */
  type: z.string(),
  title: z.string().optional(),
  username: z.string().optional(),
  is_forum: z.boolean().optional(),
});

const entitySchema = z.object({
  type: z.string(),
  offset: z.number().int().min(0),
  length: z.number().int().min(0),
  user: tgUserSchema.optional(),
});

const fileSchema = z.object({
  file_id: z.string().min(1),
  file_name: z.string().optional(),
  mime_type: z.string().optional(),
  file_size: z.number().optional(),
});

const stickerSchema = z.object({
  file_id: z.string().min(1),
  emoji: z.string().optional(),
  /** .tgs (gzipped Lottie) and .webm stickers are animations, not pictures. */
  is_animated: z.boolean().optional(),
  is_video: z.boolean().optional(),
  file_size: z.number().optional(),
});

const locationSchema = z.object({ latitude: z.number(), longitude: z.number() });

const photoSizeSchema = z.object({
  file_id: z.string().min(1),
  file_unique_id: z.string().optional(),
  width: z.number(),
  height: z.number(),
  file_size: z.number().optional(),
});

export const tgMessageSchema = z.object({
  message_id: id,
  message_thread_id: id.optional(),
  is_topic_message: z.boolean().optional(),
  from: tgUserSchema.optional(),
  /** Set when the message was sent on behalf of a chat: an anonymous group admin, or a channel. */
  sender_chat: tgChatSchema.optional(),
  /** A channel post that Telegram copied into the channel's discussion group. */
  is_automatic_forward: z.boolean().optional(),
  chat: tgChatSchema,
  /** Unix seconds; 0 for an inaccessible message (a button under a message older than Telegram keeps). */
  date: z.number().int().min(0).optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
  entities: z.array(entitySchema).optional(),
  caption_entities: z.array(entitySchema).optional(),
  // Only who wrote the message answered is read (is it a reply to the bot?), so it is not checked any deeper.
  reply_to_message: z.object({ message_id: id, from: tgUserSchema.optional() }).optional(),
  photo: z.array(photoSizeSchema).optional(),
  document: fileSchema.optional(),
  voice: fileSchema.optional(),
  audio: fileSchema.optional(),
  video: fileSchema.optional(),
  /** A round video message; it has no mime_type (always MPEG-4). */
  video_note: fileSchema.optional(),
  /** A GIF or silent MPEG-4; Telegram sets `document` to the same file too. */
  animation: fileSchema.optional(),
  sticker: stickerSchema.optional(),
  location: locationSchema.optional(),
  /** Telegram sets `location` to the venue's location too. */
  venue: z.object({ location: locationSchema, title: z.string(), address: z.string() }).optional(),
  contact: z
    .object({
      phone_number: z.string(),
      first_name: z.string(),
      last_name: z.string().optional(),
    })
    .optional(),
});

export const tgCallbackQuerySchema = z.object({
  id: z.string().min(1),
  from: tgUserSchema,
  message: tgMessageSchema.optional(),
  data: z.string().optional(),
});

export const tgUpdateSchema = z.object({
  update_id: id,
  message: tgMessageSchema.optional(),
  callback_query: tgCallbackQuerySchema.optional(),
});

export type TgUser = z.output<typeof tgUserSchema>;
export type TgChat = z.output<typeof tgChatSchema>;
export type TgEntity = z.output<typeof entitySchema>;
export type TgMessage = z.output<typeof tgMessageSchema>;
export type TgCallbackQuery = z.output<typeof tgCallbackQuerySchema>;
/** What the Bot API sends; read it with normalizeUpdate, which checks it against tgUpdateSchema. */
export type TgUpdate = z.output<typeof tgUpdateSchema>;
