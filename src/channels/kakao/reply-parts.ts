// Kakao takes one answer per request, but a reply can be several outbox items (a command's multi-part answer,
// each `reply:<eventId>:<n>`). The first part to go out collects the parts queued after it for the same
// callback and sends them all in that one callback; the later parts then find themselves already sent.
import { createHash } from "node:crypto";
import type { Store } from "../../store/types.ts";
import type { OutboundMessage, OutboxPayload } from "../types.ts";

const PACKED_NAMESPACE = "kakao-callback-parts";
/** Long enough for later parts held up behind a restart to still find they were sent. */
const PACKED_TTL_MS = 60 * 60 * 1000;

const urlKey = (callbackUrl: string) => createHash("sha256").update(callbackUrl).digest("hex");

/** The messages queued after `idempotencyKey` (`<prefix>:<n>`) that answer through the same callback URL. */
export async function laterParts(
  store: Store,
  idempotencyKey: string | undefined,
  callbackUrl: string,
): Promise<{ keys: string[]; messages: OutboundMessage[] }> {
  const found = { keys: [] as string[], messages: [] as OutboundMessage[] };
  const m = idempotencyKey ? /^(.*):(\d+)$/.exec(idempotencyKey) : null;
  if (!m) return found;
  // The parts of one reply are committed together, so they are all there when the first one is sent.
  for (let n = Number(m[2]) + 1; ; n++) {
    const key = `${m[1]}:${n}`;
    const item = await store.findOutboundByKey(key);
    if (!item || item.state === "done" || item.state === "dead") break;
    const payload = JSON.parse(item.payload) as OutboxPayload;
    if (payload.address.replyContext?.callbackUrl !== callbackUrl) break;
    found.keys.push(key);
    found.messages.push(payload.message);
  }
  return found;
}

/** Records which later parts rode along in the callback. */
export async function rememberPacked(store: Store, callbackUrl: string, keys: string[]): Promise<void> {
  if (!keys.length) return;
  await store.kvSet(PACKED_NAMESPACE, urlKey(callbackUrl), JSON.stringify(keys), PACKED_TTL_MS);
}

/** True when this part was already sent inside the callback of an earlier part of the same reply. */
export async function wasPacked(
  store: Store,
  callbackUrl: string,
  idempotencyKey: string | undefined,
): Promise<boolean> {
  if (!idempotencyKey) return false;
  const raw = await store.kvGet(PACKED_NAMESPACE, urlKey(callbackUrl));
  return raw ? (JSON.parse(raw) as string[]).includes(idempotencyKey) : false;
}
