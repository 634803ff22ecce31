// Every paced platform call does the same: wait for the buckets' tokens, make the call, and when the platform
// answers "too many requests" (RateLimitedError) block one bucket for its Retry-After, so the calls queued
// behind it wait too instead of being refused one by one.
import type { BucketSpec, Pacer } from "../../runtime/pacer.ts";
import { RateLimitedError } from "../types.ts";

/** `blockKey` names the bucket a 429 blocks: fixed, or chosen from the error (e.g. by how long it asks for). */
export async function pacedCall<T>(
  pacer: Pacer,
  buckets: BucketSpec[],
  blockKey: string | ((err: RateLimitedError) => string),
  call: () => Promise<T>,
): Promise<T> {
  await pacer.take(buckets);
  try {
    return await call();
  } catch (err) {
    if (err instanceof RateLimitedError) {
      pacer.block(typeof blockKey === "string" ? blockKey : blockKey(err), err.retryAfterMs);
    }
    throw err;
  }
}
