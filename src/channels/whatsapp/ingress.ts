// WhatsApp Cloud API webhooks: the GET verify handshake (hub.verify_token), and POSTs signed with
// X-Hub-Signature-256 = "sha256=" + hex HMAC-SHA256(app secret, raw body). Messages become InboundEvents keyed
// by the message id (wamid…), so Meta's redeliveries are duplicates.
import type { IncomingHttpHeaders } from "node:http";
import type { Attachment, InboundEvent } from "../../core/event.ts";
import { hmac, safeEqualString, verifyDigest } from "../../security/hmac.ts";

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

interface WaMessage {
  from?: string;
  id?: string;
  timestamp?: string;
  type?: string;
  text?: { body?: string };
  image?: { id?: string; mime_type?: string; caption?: string };
  interactive?: {
    type?: string;
    button_reply?: { id?: string; title?: string };
    list_reply?: { id?: string; title?: string };
  };
  button?: { payload?: string; text?: string };
}

/** Every message in the payload that belongs to `phoneNumberId`; statuses and other fields are skipped. */
export function normalizeWhatsappPayload(
  payload: Record<string, unknown>,
  o: { account: string; phoneNumberId: string; now?: number },
): InboundEvent[] {
  if (payload.object !== "whatsapp_business_account" || !Array.isArray(payload.entry)) return [];
  const out: InboundEvent[] = [];
  for (const entry of payload.entry as { changes?: unknown }[]) {
    for (const change of Array.isArray(entry?.changes) ? (entry.changes as Record<string, unknown>[]) : []) {
      if (change.field !== "messages") continue;
      const value = (change.value ?? {}) as Record<string, unknown>;
      const metadata = (value.metadata ?? {}) as { phone_number_id?: string };
      if (metadata.phone_number_id && metadata.phone_number_id !== o.phoneNumberId) continue;
      const contacts = Array.isArray(value.contacts)
        ? (value.contacts as { wa_id?: string; profile?: { name?: string } }[])
        : [];
      for (const m of Array.isArray(value.messages) ? (value.messages as WaMessage[]) : []) {
        const event = normalizeMessage(m, contacts, o);
        if (event) out.push(event);
      }
    }
  }
  return out;
}

function normalizeMessage(
  m: WaMessage,
  contacts: { wa_id?: string; profile?: { name?: string } }[],
  o: { account: string; now?: number },
): InboundEvent | undefined {
  if (!m.from || !m.id) return undefined;
  let text: string | undefined;
  let action: InboundEvent["action"];
  const attachments: Attachment[] = [];
  if (m.type === "text") text = m.text?.body;
  else if (m.type === "image" && m.image?.caption) {
    text = m.image.caption;
    attachments.push({ kind: "image", mime: m.image.mime_type, platformId: m.image.id });
  } else if (m.type === "interactive") {
    const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
    if (reply?.id) action = { id: m.id, value: reply.id };
  } else if (m.type === "button" && m.button?.text) text = m.button.text;
  if (text === undefined && !action) return undefined;
  return {
    id: `whatsapp:${o.account}:${m.id}`,
    channel: "whatsapp",
    account: o.account,
    conversation: { id: m.from, kind: "dm" },
    sender: { id: m.from, name: contacts.find((c) => c.wa_id === m.from)?.profile?.name },
    text: text ?? "",
    attachments,
    action,
    addressed: true,
    receivedAt: o.now ?? Date.now(),
    replyContext: { messageId: m.id },
    native: m,
  };
}
