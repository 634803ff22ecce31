// Signature helpers shared by every webhook channel: HMACs in the encodings platforms use, compared in
// constant time, and a timestamp window check.
import { createHmac, timingSafeEqual } from "node:crypto";

export function hmac(algorithm: "sha1" | "sha256", key: string | Buffer, data: string | Buffer): Buffer {
  return createHmac(algorithm, key).update(data).digest();
}

/** Constant-time comparison; unequal lengths still take a compare so timing says nothing about the prefix. */
export function safeEqualBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) {
    timingSafeEqual(a, a);
    return false;
  }
  return timingSafeEqual(a, b);
}

export function safeEqualString(a: string, b: string): boolean {
  return safeEqualBytes(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Checks a presented hex or base64 signature against the expected digest, in constant time. */
export function verifyDigest(
  expected: Buffer,
  presented: string | undefined,
  encoding: "hex" | "base64",
): boolean {
  if (!presented) return false;
  const got = Buffer.from(presented.trim(), encoding);
  return got.length > 0 && safeEqualBytes(expected, got);
}

/** True when `timestampSec` is within `windowSec` of now (both directions: clocks drift). */
export function withinWindow(timestampSec: number, windowSec: number, nowMs = Date.now()): boolean {
  return Number.isFinite(timestampSec) && Math.abs(nowMs / 1000 - timestampSec) <= windowSec;
}
