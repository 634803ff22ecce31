// Random secrets and how they are kept at rest: tokens are 32 random bytes in base64url, and the store only
// ever holds their SHA-256, so a copy of the database does not hand out working credentials.
import { createHash, randomBytes } from "node:crypto";
import { safeEqualString } from "./hmac.ts";

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** A short id for people to type (`/pair approve req_k3m9`): lower-case base32 without look-alikes. */
export function shortId(prefix: string, length = 6): string {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  return prefix + randomChars(alphabet, length);
}

/** Uniformly random characters from `alphabet` (rejection sampling, no modulo bias). */
export function randomChars(alphabet: string, length: number): string {
  let out = "";
  const limit = 256 - (256 % alphabet.length);
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Compares a presented token with a stored hash in constant time. */
export function tokenMatches(presented: string, storedHash: string): boolean {
  return safeEqualString(hashToken(presented), storedHash);
}
