// LINE webhooks: X-Line-Signature = base64 HMAC-SHA256(channel secret, raw body), required on every request
// (even the console's "Verify" with no events). Messages (text, image, video, audio, file, location, sticker)
// and postbacks become InboundEvents keyed by webhookEventId, so a redelivery is a duplicate. A signature
// proves who sent a body, not that each event has the shape we expect: every event is checked against a
// schema, and one we cannot read is skipped (the adapter logs it) while the others of the batch are taken in.
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { type Attachment, type ConversationKind, type InboundEvent, sentAtFrom } from "../../core/event.ts";
import { hmac, verifyDigest } from "../../security/hmac.ts";

export type LineVerdict = { ok: true } | { ok: false; status: 401; reason: string };

export function lineSignature(secret: string, body: Buffer | string): string {
  return hmac("sha256", secret, body).toString("base64");
}

export function verifyLineRequest(secret: string, headers: IncomingHttpHeaders, body: Buffer): LineVerdict {
  const presented = headers["x-line-signature"];
  if (typeof presented !== "string" || !presented) {
    return { ok: false, status: 401, reason: "missing X-Line-Signature" };
  }
  if (!verifyDigest(hmac("sha256", secret, body), presented, "base64")) {
    return { ok: false, status: 401, reason: "invalid LINE signature" };
  }
  return { ok: true };
}

/** A platform id we can key on: a non-empty string with something other than white space in it. */
const idSchema = z.string().regex(/\S/);

const sourceSchema = z.object({
  type: z.string(),
  userId: idSchema.optional(),
  groupId: idSchema.optional(),
  roomId: idSchema.optional(),
});

const mentioneeSchema = z.object({
  index: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  isSelf: z.boolean().optional(),
});

const baseSchema = z.object({
  type: z.string(),
  mode: z.string().optional(),
  timestamp: z.number().finite().positive().optional(),
  replyToken: z.string().min(1).optional(),
  source: sourceSchema,
});

const messageEventSchema = baseSchema.extend({
  message: z.object({
    type: z.string(),
    text: z.string().optional(),
    mention: z.object({ mentionees: z.array(mentioneeSchema) }).optional(),
  }),
});

/** Image, video and audio: fetched from the content API by message id, or from the sender's own server. */
const contentSchema = z.object({
  id: idSchema,
  contentProvider: z.object({ type: z.string(), originalContentUrl: z.string().optional() }).optional(),
});

const fileSchema = z.object({
  id: idSchema,
  fileName: z.string().optional(),
  fileSize: z.number().int().nonnegative().optional(),
});

const locationSchema = z.object({
  title: z.string().optional(),
  address: z.string().optional(),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
});

const stickerSchema = z.object({
  packageId: z.string(),
  stickerId: z.string(),
  /** Up to 15 words describing the sticker, when LINE has them. */
  keywords: z.array(z.string()).optional(),
  /** What the user typed on a message sticker. */
  text: z.string().optional(),
});

const postbackEventSchema = baseSchema.extend({
  postback: z.object({ data: z.string(), displayText: z.string().optional() }),
});

type LineSource = z.output<typeof sourceSchema>;
type Mentionee = z.output<typeof mentioneeSchema>;

/**
 * What one entry of a webhook's `events` became: an event to ingest; "ignored" for events clawgate does not
 * answer (follow, unsend, standby mode); "unidentified" for an event without webhookEventId (nothing to
 * deduplicate on); "unreadable" when its shape is not what LINE documents. `summary` is safe to log: event
 * type and source, never the text or the reply token.
 */
export type LineRead =
  | { kind: "event"; event: InboundEvent }
  | { kind: "ignored" | "unidentified"; summary: Record<string, unknown> }
  | { kind: "unreadable"; summary: Record<string, unknown>; problems: string[] };

function conversationOf(source: LineSource): { id: string; kind: ConversationKind } | undefined {
  if (source.type === "user" && source.userId) return { id: source.userId, kind: "dm" };
  if (source.type === "group" && source.groupId) return { id: source.groupId, kind: "group" };
  if (source.type === "room" && source.roomId) return { id: source.roomId, kind: "group" };
  return undefined;
}

/** Removes mentions of the bot itself from the text (LINE gives their index and length). */
function withoutSelfMentions(text: string, mentionees: Mentionee[]): string {
  let out = text;
  for (const m of [...mentionees].filter((m) => m.isSelf).sort((a, b) => b.index - a.index)) {
    out = out.slice(0, m.index) + out.slice(m.index + m.length);
  }
  return out.trim();
}

/** Type and source of any value, for a log line: only short strings, nothing from the message itself. */
function summarize(raw: unknown): Record<string, unknown> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    return { shape: Array.isArray(raw) ? "array" : typeof raw };
  const e = raw as Record<string, unknown>;
  const short = (v: unknown) => (typeof v === "string" ? v.slice(0, 64) : undefined);
  const src = e.source && typeof e.source === "object" ? (e.source as Record<string, unknown>) : {};
  return {
    type: short(e.type),
    webhookEventId: short(e.webhookEventId),
    source: {
      type: short(src.type),
      userId: short(src.userId),
      groupId: short(src.groupId),
      roomId: short(src.roomId),
    },
  };
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`);
}

export function normalizeLineEvent(
  raw: unknown,
  o: { account: string; requireMention: boolean; now?: number },
): LineRead {
  const summary = summarize(raw);
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    return { kind: "unreadable", summary, problems: ["an event must be an object"] };
  const e = raw as Record<string, unknown>;
  const eventId = idSchema.safeParse(e.webhookEventId);
  if (!eventId.success) return { kind: "unidentified", summary };
  if ((e.type !== "message" && e.type !== "postback") || e.mode === "standby")
    return { kind: "ignored", summary };

  const parsed = (e.type === "postback" ? postbackEventSchema : messageEventSchema).safeParse(e);
  if (!parsed.success) return { kind: "unreadable", summary, problems: problemsOf(parsed.error) };
  const p = parsed.data;
  const conversation = conversationOf(p.source);
  if (!conversation) return { kind: "unreadable", summary, problems: ["source: no user, group or room id"] };

  const id = eventId.data;
  const now = o.now ?? Date.now();
  const base = {
    id: `line:${o.account}:${id}`,
    channel: "line",
    account: o.account,
    conversation,
    sender: { id: p.source.userId ?? "unknown" },
    attachments: [],
    receivedAt: now,
    // LINE's time of the event, kept on redeliveries: an event older than the dedup window is ignored.
    sentAt: sentAtFrom(p.timestamp, "ms"),
    replyContext: p.replyToken ? { replyToken: p.replyToken, replyTokenAt: p.timestamp ?? now } : undefined,
    native: { webhookEventId: id, type: e.type, messageId: (e.message as { id?: unknown } | undefined)?.id },
  };
  if ("postback" in p) {
    // displayText is what LINE showed in the chat as the user's own message: for a postback clawgate did not
    // make (a rich menu), the pipeline takes it as the message; our own quick replies resolve as actions.
    const text = p.postback.displayText?.trim() ?? "";
    return {
      kind: "event",
      event: { ...base, text, action: { id, value: p.postback.data }, addressed: true },
    };
  }
  const message = p.message;
  if (message.type !== "text") {
    const content = contentOf(message.type, (e as { message: unknown }).message);
    if (!content) return { kind: "ignored", summary };
    if ("problems" in content) return { kind: "unreadable", summary, problems: content.problems };
    // Nobody can @-mention the bot in a picture: in a group that requires a mention it is not addressed.
    return {
      kind: "event",
      event: {
        ...base,
        text: content.text,
        attachments: [content.attachment],
        addressed: conversation.kind === "dm" || !o.requireMention,
      },
    };
  }
  if (message.text === undefined) return { kind: "unreadable", summary, problems: ["message.text: missing"] };
  const mentionees = message.mention?.mentionees ?? [];
  const mentioned = mentionees.some((m) => m.isSelf);
  return {
    kind: "event",
    event: {
      ...base,
      text: withoutSelfMentions(message.text, mentionees),
      addressed: conversation.kind === "dm" || mentioned || !o.requireMention,
    },
  };
}

/** LINE's audio messages are recorded in the app: voice notes, in an m4a (MP4) container. */
const VOICE_MIME = "audio/mp4";

type Content = { attachment: Attachment; text: string } | { problems: string[] };

/** A non-text message as an attachment (and the words of a message sticker); undefined for unknown types. */
function contentOf(type: string, raw: unknown): Content | undefined {
  const read = <T>(schema: z.ZodType<T>, make: (v: T) => { attachment: Attachment; text?: string }) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return { problems: problemsOf(parsed.error).map((p) => `message.${p}`) };
    const made = make(parsed.data);
    return { attachment: made.attachment, text: made.text ?? "" };
  };
  switch (type) {
    case "image":
    case "video":
      return read(contentSchema, (m) => ({ attachment: { kind: type, ...contentRef(m) } }));
    case "audio":
      return read(contentSchema, (m) => ({
        attachment: { kind: "voice", mime: VOICE_MIME, name: `voice-${m.id}.m4a`, ...contentRef(m) },
      }));
    case "file":
      return read(fileSchema, (m) => ({
        attachment: {
          kind: "file",
          platformId: m.id,
          ...(m.fileName ? { name: m.fileName } : {}),
          ...(m.fileSize !== undefined ? { size: m.fileSize } : {}),
        },
      }));
    case "location":
      return read(locationSchema, (m) => ({
        attachment: {
          kind: "location",
          location: {
            latitude: m.latitude,
            longitude: m.longitude,
            ...(m.title ? { name: m.title } : {}),
            ...(m.address ? { address: m.address } : {}),
          },
        },
      }));
    case "sticker":
      // The sticker's picture is not served by the Messaging API; its keywords say what it shows.
      return read(stickerSchema, (m) => ({
        attachment: {
          kind: "sticker",
          name: `LINE sticker ${m.packageId}/${m.stickerId}`,
          ...(m.keywords?.length ? { alt: m.keywords.join(", ") } : {}),
        },
        text: m.text?.trim() ?? "",
      }));
    default:
      return undefined;
  }
}

/**
 * Content LINE stores is fetched by message id; content an app sent from its own server
 * (contentProvider.type "external") by the URL in the payload, which goes through the URL guard.
 */
function contentRef(m: z.output<typeof contentSchema>): Pick<Attachment, "platformId" | "url"> {
  const external = m.contentProvider?.type === "external" ? m.contentProvider.originalContentUrl : undefined;
  return external && /^https?:\/\//i.test(external)
    ? { platformId: m.id, url: external }
    : { platformId: m.id };
}
