// The signature both directions use: HMAC-SHA256 over `<unix seconds>.<raw body>`, sent as
// `x-webhook-timestamp: <unix seconds>` and `x-webhook-signature: sha256=<hex>`. Binding the timestamp into the
// MAC is what makes the replay window hold: an attacker cannot refresh a captured request's time.
import { createHmac, timingSafeEqual } from "node:crypto";

export const TIMESTAMP_HEADER = "x-webhook-timestamp";
export const SIGNATURE_HEADER = "x-webhook-signature";

export function sign(secret: string, timestampSec: number, body: string | Buffer): string {
  const mac = createHmac("sha256", secret);
  mac.update(`${timestampSec}.`);
  mac.update(body);
  return `sha256=${mac.digest("hex")}`;
}

/** Headers for a signed POST of `body`. */
export function signedHeaders(secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  return {
    "content-type": "application/json",
    [TIMESTAMP_HEADER]: String(ts),
    [SIGNATURE_HEADER]: sign(secret, ts, body),
  };
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** Checks a request's timestamp (within `windowSec` of now, either way) and signature. */
export function verify(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: Buffer,
  windowSec: number,
  nowMs = Date.now(),
): Verdict {
  const { timestamp, signature } = headers;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: "missing or malformed timestamp" };
  if (!signature) return { ok: false, reason: "missing signature" };
  const ts = Number(timestamp);
  if (Math.abs(nowMs / 1000 - ts) > windowSec) {
    return { ok: false, reason: `timestamp outside the ${windowSec} s replay window` };
  }
  const expected = Buffer.from(sign(secret, ts, body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: "signature does not match" };
  }
  return { ok: true };
}
