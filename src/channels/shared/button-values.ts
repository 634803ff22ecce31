// Platforms cap what a button may carry (Telegram callback_data 64 bytes, Discord custom_id 100 chars). Values
// that fit travel as they are; longer ones are kept in the store kv and the button carries a short reference.
import { createHash } from "node:crypto";
import type { Store } from "../../store/types.ts";

const NS = "button-values";
const REF = "~bv:";
const TTL_MS = 30 * 86_400_000;

export async function encodeButtonValue(store: Store, value: string, maxBytes: number): Promise<string> {
  if (Buffer.byteLength(value, "utf8") <= maxBytes && !value.startsWith(REF)) return value;
  const ref = createHash("sha256").update(value).digest("base64url").slice(0, 24);
  await store.kvSet(NS, ref, value, TTL_MS);
  return REF + ref;
}

/** The original value, or undefined when a reference expired. */
export async function decodeButtonValue(store: Store, carried: string): Promise<string | undefined> {
  if (!carried.startsWith(REF)) return carried;
  return store.kvGet(NS, carried.slice(REF.length));
}
