// One outbox item can become several platform messages on text-only channels (numbered choices or media links
// push a chunk past the limit). When a later message fails, the outbox retries the whole item: remembering how
// many already went out lets the retry resume after them instead of sending the first ones again.
import type { Store } from "../../store/types.ts";

const NAMESPACE = "sent-parts";
/** Longer than the outbox keeps retrying one item. */
const TTL_MS = 24 * 60 * 60 * 1000;

/**
 * Sends `parts` in order through `send`, skipping those an earlier attempt of the same delivery (same
 * idempotency key) already sent. Returns what the last `send` returned.
 */
export async function sendPartsOnce<T, P = string>(
  store: Store,
  idempotencyKey: string | undefined,
  parts: P[],
  send: (part: P, index: number) => Promise<T>,
): Promise<T | undefined> {
  const track = idempotencyKey !== undefined && parts.length > 1;
  const start = track ? Number((await store.kvGet(NAMESPACE, idempotencyKey)) ?? 0) : 0;
  let result: T | undefined;
  for (let i = start; i < parts.length; i++) {
    result = await send(parts[i]!, i);
    if (!track) continue;
    // Kept after the last part too (until the TTL): a crash before the outbox marks the item done must not make
    // the retry send everything again.
    await store.kvSet(NAMESPACE, idempotencyKey, String(i + 1), TTL_MS);
  }
  return result;
}
