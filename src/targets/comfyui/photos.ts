// Photos for image templates. A photo comes with the /run message itself, or with the message the /run answers:
// a photo the bot sent (a ComfyUI result, found in the outbox with the platform id the channel returned), or a
// user's photo recorded when it arrived (rememberImages). The bytes come through the channel's fetchAttachment
// within media.inbound.maxImageMb, must be a picture LoadImage reads (by their signature), and are kept in the
// media store until the job is submitted: an approval may wait, and each server tried gets its own upload.
import type { OutboxPayload } from "../../channels/types.ts";
import type { Attachment, InboundEvent } from "../../core/event.ts";
import { sessionKeyOf } from "../../core/event.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import type { GatewayServices } from "../../gateway/services.ts";
import { sniffMime } from "../../media/sniff.ts";
import type { KvStore } from "../../store/facets.ts";
import { imageInputsOf, photoUsage, type Template, TemplateError } from "./templates.ts";

export type PhotoSource =
  | { from: "message" | "reply"; attachment: Attachment }
  | { from: "bot"; bytes: Buffer; mime: string };

export interface Photo {
  bytes: Buffer;
  mime: string;
}

/** Where a user's photos are remembered, by conversation and platform message id, for a later reply. */
export const REPLY_IMAGES_KV = "comfyui.reply-images";
const REPLY_IMAGES_TTL_MS = 2 * 86_400_000;
/** How far back in a conversation's outbox a replied-to bot message is looked for. */
const OUTBOX_LOOKBACK = 20;

/** What ComfyUI's LoadImage reads (PIL without plugins: no HEIC or AVIF), by the bytes' signature. */
const COMFY_READS = new Set(["image/jpeg", "image/png", "image/webp", "image/gif"]);

export function isPhoto(a: Attachment): boolean {
  if (a.kind === "image") return true;
  // A picture sent "as a file" (uncompressed) is still a picture.
  return a.kind === "file" && /^image\//i.test(a.mime ?? "") && !/svg/i.test(a.mime ?? "");
}

function replyKey(event: Pick<InboundEvent, "channel" | "account" | "conversation">, messageId: string) {
  return `${sessionKeyOf(event)}\n${messageId}`;
}

/**
 * The kv record that lets a later `/run` reply find this message's photos: the gateway writes it for every
 * incoming message with images (addressed or not), with the message's platform id (the id `replyTo` uses).
 */
export function replyImagesRecord(event: InboundEvent, messageId: string) {
  const photos = event.attachments.filter(isPhoto);
  if (!photos.length) return undefined;
  return {
    namespace: REPLY_IMAGES_KV,
    key: replyKey(event, messageId),
    value: JSON.stringify(photos),
    ttlMs: REPLY_IMAGES_TTL_MS,
  };
}

export async function rememberImages(kv: KvStore, event: InboundEvent, messageId: string) {
  const r = replyImagesRecord(event, messageId);
  if (r) await kv.kvSet(r.namespace, r.key, r.value, r.ttlMs);
}

/**
 * The photos a /run of this template uses, at most one per image input, and the lines its "Queued" answer adds.
 * A reply's pictures count only for a template that takes one: "/run txt2img" answering a result just runs it.
 */
export async function photosForRun(
  t: Template,
  event: InboundEvent,
  services: GatewayServices,
): Promise<{ sources: PhotoSource[]; note: string[] }> {
  const slots = imageInputsOf(t).length;
  // For a template without one, the message's own photo is kept so the check refuses it.
  const sources = (await photosFor(event, services, slots > 0)).slice(0, Math.max(slots, 1));
  const unused = slots ? event.attachments.filter(isPhoto).length - sources.length : 0;
  const n = sources.length;
  const note = [
    ...(slots && n ? [`Photo${n > 1 ? "s" : ""}: ${n} (sent to ComfyUI with the job)`] : []),
    ...(unused > 0
      ? [`${unused} more photo${unused > 1 ? "s were" : " was"} not used: ${t.id} takes ${slots}.`]
      : []),
  ];
  return { sources, note };
}

/** The photos a /run uses: its own, else those of the message it replies to. */
export async function photosFor(
  event: InboundEvent,
  services: GatewayServices,
  replies = true,
): Promise<PhotoSource[]> {
  const own = event.attachments.filter(isPhoto);
  if (own.length) return own.map((attachment) => ({ from: "message" as const, attachment }));
  if (!event.replyTo || !replies) return [];
  const remembered = await services.store.kvGet(REPLY_IMAGES_KV, replyKey(event, event.replyTo));
  if (remembered)
    return (JSON.parse(remembered) as Attachment[]).map((attachment) => ({
      from: "reply" as const,
      attachment,
    }));
  return fromBotMessage(event, services);
}

/**
 * A photo the bot sent, by the platform id the channel returned for it. A message with several pictures is sent
 * as several platform messages and the id returned is the last one's, so that picture is the one found.
 */
async function fromBotMessage(event: InboundEvent, services: GatewayServices): Promise<PhotoSource[]> {
  const items = await services.store.listOutbound({
    sessionKey: sessionKeyOf(event),
    state: "done",
    limit: OUTBOX_LOOKBACK,
  });
  for (const item of items) {
    const sent = item.result ? (JSON.parse(item.result) as { messageId?: string }) : {};
    if (sent.messageId !== event.replyTo) continue;
    const media = (JSON.parse(item.payload) as OutboxPayload).message?.media ?? [];
    const last = media.filter((m) => /^image\//.test(m.mime)).at(-1);
    return last ? [{ from: "bot", bytes: Buffer.from(last.dataBase64, "base64"), mime: last.mime }] : [];
  }
  return [];
}

/** Downloads (or takes) one photo and checks it is an image ComfyUI can read; user mistakes become TemplateErrors. */
export async function loadPhoto(
  src: PhotoSource,
  event: InboundEvent,
  services: GatewayServices,
  templateId: string,
  signal: AbortSignal,
): Promise<Photo> {
  const maxMb = services.config.media.inbound.maxImageMb;
  const maxBytes = Math.floor(maxMb * 1024 * 1024);
  let bytes: Buffer;
  if (src.from === "bot") bytes = src.bytes;
  else {
    const declared = src.attachment.size;
    if (declared !== undefined && declared > maxBytes) throw tooLarge(declared, maxMb);
    const adapter = services.adapter(event.channel, event.account);
    if (!adapter?.fetchAttachment)
      throw new TemplateError(
        `This chat cannot pass photos on to ComfyUI yet (the ${event.channel} channel does not download attachments), so nothing was queued.`,
      );
    try {
      bytes = (await adapter.fetchAttachment(src.attachment, { maxBytes, signal })).bytes;
    } catch (err) {
      if (err instanceof MediaTooLargeError) throw tooLarge(undefined, maxMb);
      if ((err as Error).name === "AttachmentUnavailableError")
        throw new TemplateError(
          `The photo can no longer be downloaded from ${event.channel}: send it again with the caption /run ${templateId}.`,
        );
      throw err;
    }
  }
  if (bytes.length > maxBytes) throw tooLarge(bytes.length, maxMb);
  // The platform's word for the type is not trusted: the bytes say what they are.
  const mime = sniffMime(bytes);
  if (!mime || !COMFY_READS.has(mime))
    throw new TemplateError(
      `That file is not a picture ComfyUI can read (JPEG, PNG, WebP or GIF), so nothing was queued: ${photoUsage(templateId)}.`,
    );
  return { bytes, mime };
}

function tooLarge(size: number | undefined, maxMb: number): TemplateError {
  const what = size ? `The photo is ${(size / 1024 / 1024).toFixed(1)} MB` : "The photo is too large";
  return new TemplateError(
    `${what}; photos for ComfyUI may be up to ${maxMb} MB here (media.inbound.maxImageMb). Nothing was queued: send a smaller one.`,
  );
}

/**
 * Downloads and checks each photo, then keeps them until the job is submitted; the ids are the image inputs'
 * values. Nothing is kept unless every photo passed.
 */
export async function keepPhotos(
  services: GatewayServices,
  event: InboundEvent,
  sources: PhotoSource[],
  o: { templateId: string; keepSec: number; signal: AbortSignal },
): Promise<string[]> {
  const photos: Photo[] = [];
  for (const src of sources) photos.push(await loadPhoto(src, event, services, o.templateId, o.signal));
  const expiresAtSec = Math.floor(Date.now() / 1000) + o.keepSec;
  const owner = sessionKeyOf(event);
  return Promise.all(
    photos.map((p) => services.media.files.save(p.bytes, { mime: p.mime, owner, expiresAtSec })),
  );
}
