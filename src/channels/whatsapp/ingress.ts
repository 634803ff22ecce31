// WhatsApp Cloud API webhooks: the GET verify handshake (hub.verify_token), and POSTs signed with
// X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(app secret, raw body). Messages become InboundEvents keyed
// by the message id (wamid…), so Meta's redeliveries are duplicates.
import type { IncomingHttpHeaders } from "node:http";
import { z } from "zod";
import { type Attachment, type InboundEvent, sentAtFrom } from "../../core/event.ts";
import { hmac, safeEqualString, verifyDigest } from "../../security/hmac.ts";
import { isCarriedType, readCarried } from "./attachments.ts";

export type Verdict = { ok: true } | { ok: false; status: 401 | 403; reason: string };

export function verifyHubSignature(appSecret: string, headers: IncomingHttpHeaders, body: Buffer): Verdict {
  const sig = headers["x-hub-signature-256"];
  if (typeof sig !== "string" || !sig)
    return { ok: false, status: 401, reason: "missing X-Hub-Signature-256" };
  if (!sig.startsWith("sha256=") || !verifyDigest(hmac("sha256", appSecret, body), sig.slice(7), "hex")) {
    return { ok: false, status: 401, reason: "invalid X-Hub-Signature-256" };
  }
  return { ok: true };
}

/** GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=… → the challenge, or a refusal. */
export function verifyHandshake(
  verifyToken: string,
  query: URLSearchParams,
): { ok: true; challenge: string } | { ok: false; reason: string } {
  if (query.get("hub.mode") !== "subscribe") return { ok: false, reason: "hub.mode must be subscribe" };
  const token = query.get("hub.verify_token") ?? "";
  if (!safeEqualString(token, verifyToken)) return { ok: false, reason: "verify token mismatch" };
  return { ok: true, challenge: query.get("hub.challenge") ?? "" };
}

// The payload is read through schemas at the boundary: whatever part of a signed batch cannot be read (a null
// change, a message without a usable id or sender, a field of the wrong type) is skipped with a reason, and the
// batch's other messages are still taken in. Field names and types: the Cloud API's webhook payload reference.
const idString = z.string().trim().min(1).max(256);
const entrySchema = z.looseObject({ changes: z.array(z.unknown()) });
const changeSchema = z.looseObject({ field: z.string(), value: z.unknown().optional() });
const valueSchema = z.looseObject({
  metadata: z.looseObject({ phone_number_id: z.union([z.string(), z.number()]).optional() }).optional(),
  /** Only for display names: an unreadable list costs the names, never the messages. */
  contacts: z.array(z.unknown()).optional().catch(undefined),
  messages: z.array(z.unknown()).optional(),
});
const contactSchema = z.looseObject({
  wa_id: z.string(),
  profile: z.looseObject({ name: z.string() }).optional(),
});
const messageSchema = z.looseObject({
  from: idString,
  id: idString,
  /** Seconds since the epoch, as a string (numbers are accepted too). */
  timestamp: z
    .union([z.string().regex(/^\d{1,12}$/), z.number().int().min(0)])
    .optional()
    .catch(undefined),
  type: z.string(),
});
const titled = z.looseObject({ id: z.string(), title: z.string().optional().catch(undefined) });
const typeSchemas = {
  text: z.looseObject({ text: z.looseObject({ body: z.string() }) }),
  interactive: z.looseObject({
    interactive: z.looseObject({
      type: z.string(),
      button_reply: titled.optional(),
      list_reply: titled.optional(),
    }),
  }),
  button: z.looseObject({
    button: z.looseObject({
      payload: z.string().optional().catch(undefined),
      text: z.string().optional().catch(undefined),
    }),
  }),
};

export interface NormalizedBatch {
  events: InboundEvent[];
  /** What could not be read, one line each, for the log. */
  skipped: string[];
}

/** Every message in the payload that belongs to `phoneNumberId`; statuses and other fields are skipped. */
export function normalizeWhatsappPayload(
  payload: unknown,
  o: { account: string; phoneNumberId: string; now?: number },
): NormalizedBatch {
  const out: NormalizedBatch = { events: [], skipped: [] };
  const root = z.looseObject({ object: z.literal("whatsapp_business_account"), entry: z.array(z.unknown()) });
  const top = root.safeParse(payload);
  if (!top.success) return out; // another product's webhook (page, instagram …): nothing of ours
  for (const [ei, rawEntry] of top.data.entry.entries()) {
    const entry = entrySchema.safeParse(rawEntry);
    if (!entry.success) {
      out.skipped.push(`entry[${ei}]: ${problem(entry.error)}`);
      continue;
    }
    for (const [ci, rawChange] of entry.data.changes.entries()) {
      const where = `entry[${ei}].changes[${ci}]`;
      const change = changeSchema.safeParse(rawChange);
      if (!change.success) {
        out.skipped.push(`${where}: ${problem(change.error)}`);
        continue;
      }
      if (change.data.field !== "messages") continue;
      const value = valueSchema.safeParse(change.data.value ?? {});
      if (!value.success) {
        out.skipped.push(`${where}.value: ${problem(value.error)}`);
        continue;
      }
      const phoneId = value.data.metadata?.phone_number_id;
      if (phoneId !== undefined && String(phoneId) !== o.phoneNumberId) continue;
      const names = new Map<string, string>();
      for (const c of value.data.contacts ?? []) {
        const contact = contactSchema.safeParse(c);
        if (contact.success && contact.data.profile) names.set(contact.data.wa_id, contact.data.profile.name);
      }
      for (const [mi, raw] of (value.data.messages ?? []).entries()) {
        const r = normalizeMessage(raw, names, o);
        if (typeof r === "string") out.skipped.push(`${where}.value.messages[${mi}]: ${r}`);
        else if (r) out.events.push(r);
      }
    }
  }
  return out;
}

function problem(err: z.ZodError): string {
  const i = err.issues[0];
  return i ? `${i.path.join(".") || "(itself)"}: ${i.message}` : "unreadable";
}

/** An event, undefined for a kind we do not handle (reactions, a Flow's reply …), or why it cannot be read. */
function normalizeMessage(
  raw: unknown,
  names: Map<string, string>,
  o: { account: string; now?: number },
): InboundEvent | undefined | string {
  const parsed = messageSchema.safeParse(raw);
  if (!parsed.success) return problem(parsed.error);
  const m = parsed.data;
  let text: string | undefined;
  let action: InboundEvent["action"];
  const attachments: Attachment[] = [];
  const schema = Object.hasOwn(typeSchemas, m.type)
    ? (typeSchemas as Record<string, z.ZodType>)[m.type]
    : undefined;
  const typed = schema?.safeParse(raw);
  if (typed && !typed.success) return `a message of type ${m.type}: ${problem(typed.error)}`;
  const d = typed?.data as Record<string, never> | undefined;
  if (m.type === "text") text = (d!.text as { body: string }).body;
  else if (isCarriedType(m.type)) {
    const carried = readCarried(m.type, raw);
    if (typeof carried === "string") return carried;
    text = carried.text;
    attachments.push(...carried.attachments);
  } else if (m.type === "interactive") {
    const i = d!.interactive as {
      type: string;
      button_reply?: { id: string; title?: string };
      list_reply?: typeof i.button_reply;
    };
    if (i.type !== "button_reply" && i.type !== "list_reply") return undefined; // a Flow's reply and the like
    const reply = i[i.type];
    if (!reply) return `an interactive ${i.type} without its ${i.type} object`;
    // The adapter decides: one of our buttons is an action; a button we did not make is its title as text.
    action = { id: m.id, value: reply.id };
    text = reply.title ?? "";
  } else if (m.type === "button") {
    // A template's quick-reply button: the payload the template defined, and the text the user saw.
    const b = d!.button as { payload?: string; text?: string };
    if (b.payload) action = { id: m.id, value: b.payload };
    text = b.text ?? "";
    if (!action && !text) return undefined;
  }
  if (text === undefined && !action) return undefined;
  const sentAt = sentAtFrom(m.timestamp === undefined ? undefined : Number(m.timestamp), "s");
  return {
    id: `whatsapp:${o.account}:${m.id}`,
    channel: "whatsapp",
    account: o.account,
    conversation: { id: m.from, kind: "dm" },
    sender: { id: m.from, name: names.get(m.from) },
    text: text ?? "",
    attachments,
    action,
    addressed: true,
    receivedAt: o.now ?? Date.now(),
    ...(sentAt === undefined ? {} : { sentAt }),
    replyContext: { messageId: m.id },
    native: { id: m.id, from: m.from, type: m.type, timestamp: m.timestamp },
  };
}
