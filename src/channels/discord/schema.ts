// The shapes clawgate reads from Discord's gateway dispatches, checked at the boundary: a dispatch whose ids or
// text have an unexpected type is refused with a reason (the caller logs it and goes on with the next event),
// and optional parts that cannot be read (a mention list that is not a list, one odd attachment) are left out
// instead of sinking the whole message.
import { z } from "zod";

/** Discord ids are 64-bit integers sent as decimal strings. */
const snowflake = z.string().regex(/^\d{1,20}$/, "expected a snowflake id");

/** Ms since epoch at which Discord created the object the id names (the top 42 bits count ms from 2015). */
export const DISCORD_EPOCH_MS = 1_420_070_400_000;
export function snowflakeTime(id: string): number {
  return Number(BigInt(id) >> 22n) + DISCORD_EPOCH_MS;
}

/** The smallest id created at `ms` (for `after=` queries). */
export function snowflakeAt(ms: number): string {
  return String(BigInt(Math.max(0, Math.floor(ms - DISCORD_EPOCH_MS))) << 22n);
}

/** An array whose readable entries are kept; anything else (not an array, odd entries) reads as fewer entries. */
function listOf<T extends z.ZodType>(item: T) {
  return z
    .unknown()
    .optional()
    .transform((v): z.output<T>[] => {
      if (!Array.isArray(v)) return [];
      const out: z.output<T>[] = [];
      for (const x of v) {
        const r = item.safeParse(x);
        if (r.success) out.push(r.data);
      }
      return out;
    });
}

/** Present and readable, or left out. */
function optional<T extends z.ZodType>(s: T) {
  return z
    .unknown()
    .optional()
    .transform((v): z.output<T> | undefined => {
      const r = s.safeParse(v);
      return r.success ? r.data : undefined;
    });
}

export const userSchema = z.object({
  id: snowflake,
  username: z.string().catch(""),
  global_name: optional(z.string()),
  bot: optional(z.boolean()),
});

const attachmentSchema = z.object({
  id: snowflake,
  filename: z.string().catch("file"),
  content_type: optional(z.string()),
  size: optional(z.number().int().nonnegative()),
  url: z.string().min(1),
});

export const messageSchema = z.object({
  id: snowflake,
  channel_id: snowflake,
  guild_id: optional(snowflake),
  author: userSchema,
  content: z.string({ error: "content is not text" }),
  mentions: listOf(z.object({ id: snowflake })),
  attachments: listOf(attachmentSchema),
  message_reference: optional(z.object({ message_id: optional(snowflake) })),
  referenced_message: optional(z.object({ author: optional(z.object({ id: snowflake })) })),
  webhook_id: optional(z.string()),
  /** Message flags; IS_VOICE_MESSAGE (1 << 13) marks a voice message (one audio/ogg attachment). */
  flags: optional(z.number().int()),
  /** format_type: 1 PNG, 2 APNG, 3 LOTTIE, 4 GIF. */
  sticker_items: listOf(
    z.object({ id: snowflake, name: z.string().catch(""), format_type: optional(z.number().int()) }),
  ),
});

const interactionBase = {
  id: snowflake,
  application_id: snowflake,
  token: z.string().min(1),
  channel_id: optional(snowflake),
  guild_id: optional(snowflake),
  user: optional(userSchema),
  member: optional(z.object({ user: optional(userSchema) })),
};

/** A button press (type 3, MESSAGE_COMPONENT). */
export const componentInteractionSchema = z.object({
  ...interactionBase,
  type: z.literal(3),
  data: z.object({ custom_id: z.string() }),
});

/** A slash command (type 2, APPLICATION_COMMAND; data.type 1 is CHAT_INPUT). */
export const commandInteractionSchema = z.object({
  ...interactionBase,
  type: z.literal(2),
  data: z.object({
    name: z.string().min(1).max(32),
    type: optional(z.number()),
    options: listOf(z.object({ name: z.string(), type: z.number(), value: optional(z.unknown()) })),
  }),
});

export type ParsedMessage = z.output<typeof messageSchema>;
export type ParsedUser = z.output<typeof userSchema>;
export type ComponentInteraction = z.output<typeof componentInteractionSchema>;
export type CommandInteraction = z.output<typeof commandInteractionSchema>;

/** The first problem zod found, as "path: message", for a log line. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "unreadable";
  return `${issue.path.join(".") || "(payload)"}: ${issue.message}`;
}
