// The key media links are signed with. It must survive restarts (links already sent keep working) and be the same
// on every replica: derived from the admin token when one is set, otherwise a random key kept in the store's kv
// (written once with set-if-absent, so replicas starting together agree on one key).
import { randomBytes } from "node:crypto";
import { hmac } from "../security/hmac.ts";
import type { Store } from "../store/types.ts";

const NS = "media";
const KEY = "signing-key";

export async function mediaSigningKey(store: Store, adminToken: string | undefined): Promise<Buffer> {
  if (adminToken) return hmac("sha256", adminToken, "clawgate media link signing v1");
  const existing = await store.kvGet(NS, KEY);
  if (existing) return Buffer.from(existing, "base64");
  await store.kvSetIfAbsent(NS, KEY, randomBytes(32).toString("base64"));
  const stored = await store.kvGet(NS, KEY);
  if (!stored) throw new Error("could not persist the media signing key in the store");
  return Buffer.from(stored, "base64");
}
