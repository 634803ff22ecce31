// What a WhatsApp message carries besides text, read into Attachments: media (image, audio/voice, document,
// video, sticker) by its media id, which fetchAttachment resolves later in the worker; locations and contact
// cards inline. Field names and types: the Cloud API's webhook "messages" reference.
import { z } from "zod";
import type { Attachment } from "../../core/event.ts";

const optString = z.string().optional().catch(undefined);
const media = {
  id: z.string().trim().min(1).max(256),
  mime_type: optString,
  sha256: optString,
  caption: optString,
};
const number = z.union([
  z.number(),
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number),
]);

const schemas = {
  image: z.looseObject({ image: z.looseObject(media) }),
  audio: z.looseObject({
    audio: z.looseObject({ ...media, voice: z.boolean().optional().catch(undefined) }),
  }),
  document: z.looseObject({ document: z.looseObject({ ...media, filename: optString }) }),
  video: z.looseObject({ video: z.looseObject(media) }),
  sticker: z.looseObject({
    sticker: z.looseObject({ ...media, animated: z.boolean().optional().catch(undefined) }),
  }),
  location: z.looseObject({
    location: z.looseObject({
      latitude: number.refine((n) => n >= -90 && n <= 90, "a latitude between -90 and 90"),
      longitude: number.refine((n) => n >= -180 && n <= 180, "a longitude between -180 and 180"),
      name: optString,
      address: optString,
    }),
  }),
  contacts: z.looseObject({
    contacts: z
      .array(
        z.looseObject({
          name: z.looseObject({ formatted_name: optString }).optional().catch(undefined),
          phones: z
            .array(z.looseObject({ phone: optString, wa_id: optString }))
            .optional()
            .catch(undefined),
        }),
      )
      .min(1)
      .max(50),
  }),
};

export type CarriedType = keyof typeof schemas;

export function isCarriedType(type: string): type is CarriedType {
  return Object.hasOwn(schemas, type);
}

export interface Carried {
  /** The caption, or "" (a location's name and address travel in the attachment). */
  text: string;
  attachments: Attachment[];
}

/** The message's attachments and caption, or why the message cannot be read. */
export function readCarried(type: CarriedType, raw: unknown): Carried | string {
  const parsed = schemas[type].safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    return `a message of type ${type}: ${i ? `${i.path.join(".") || "(itself)"}: ${i.message}` : "unreadable"}`;
  }
  const d = parsed.data as unknown as Record<string, never>;
  switch (type) {
    case "location": {
      const l = d.location as { latitude: number; longitude: number; name?: string; address?: string };
      const location = {
        latitude: l.latitude,
        longitude: l.longitude,
        ...(l.name ? { name: l.name } : {}),
        ...(l.address ? { address: l.address } : {}),
      };
      return { text: "", attachments: [{ kind: "location", location }] };
    }
    case "contacts": {
      const cards = d.contacts as {
        name?: { formatted_name?: string };
        phones?: { phone?: string; wa_id?: string }[];
      }[];
      const attachments = cards.map((c): Attachment => {
        const name = c.name?.formatted_name;
        const phone = c.phones?.map((p) => p.phone || p.wa_id).find(Boolean);
        return { kind: "contact", contact: { ...(name ? { name } : {}), ...(phone ? { phone } : {}) } };
      });
      return { text: "", attachments };
    }
    default:
      return mediaAttachment(type, d[type] as MediaFields);
  }
}

interface MediaFields {
  id: string;
  mime_type?: string;
  caption?: string;
  filename?: string;
  voice?: boolean;
  animated?: boolean;
}

function mediaAttachment(type: Exclude<CarriedType, "location" | "contacts">, m: MediaFields): Carried {
  const kind: Attachment["kind"] =
    type === "audio" ? (m.voice ? "voice" : "audio") : type === "document" ? "file" : type;
  const attachment: Attachment = {
    kind,
    platformId: m.id,
    ...(m.mime_type ? { mime: m.mime_type } : {}),
    ...(m.filename ? { name: m.filename } : {}),
    // WhatsApp sends no emoji with a sticker: say what it was for when the picture cannot be passed on.
    ...(type === "sticker" ? { alt: m.animated ? "(an animated sticker)" : "(a sticker)" } : {}),
  };
  return { text: m.caption ?? "", attachments: [attachment] };
}
