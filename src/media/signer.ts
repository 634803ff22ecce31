// Signed, expiring media links. A token is base64url(JSON claim) + "." + base64url(HMAC-SHA256(key, claim part)):
// the claim names the file, the conversation it was made for and when it expires, so a link cannot be pointed at
// another file, reused for another chat after the fact, or kept alive past its expiry. A token has exactly one
// spelling: any other string, however it decodes, is refused. Pure: no I/O.
import { hmac, safeEqualString } from "../security/hmac.ts";

export interface MediaClaim {
  /** Stored file name under <dataDir>/media. */
  file: string;
  /** `channel:account:conversation` the link was published for. */
  conversation: string;
  /** Expiry, unix seconds. */
  expiresAt: number;
  /** Content type to serve. */
  mime: string;
  /** Download name shown to the user. */
  name?: string;
}

export type MediaTokenCheck =
  | { ok: true; claim: MediaClaim }
  | { ok: false; reason: "invalid" }
  | { ok: false; reason: "expired"; claim: MediaClaim };

export function signMediaToken(key: Buffer, claim: MediaClaim): string {
  const payload = Buffer.from(
    JSON.stringify({
      f: claim.file,
      c: claim.conversation,
      e: claim.expiresAt,
      m: claim.mime,
      n: claim.name,
    }),
  ).toString("base64url");
  return `${payload}.${hmac("sha256", key, payload).toString("base64url")}`;
}

/** The signature is checked before the expiry, so an edited expiry is "invalid", never "expired". */
export function verifyMediaToken(key: Buffer, token: string, nowMs = Date.now()): MediaTokenCheck {
  const dot = token.indexOf(".");
  if (dot <= 0 || token.length > 4096) return { ok: false, reason: "invalid" };
  const payload = token.slice(0, dot);
  // Compared as text against the one canonical spelling: Node's base64url decoder ignores stray characters and
  // the unused low bits of the last character, so comparing decoded bytes would accept many spellings of one
  // signature. (The payload needs no such care: the MAC covers its exact text.)
  const expected = hmac("sha256", key, payload).toString("base64url");
  if (!safeEqualString(token.slice(dot + 1), expected)) return { ok: false, reason: "invalid" };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (
    typeof raw.f !== "string" ||
    typeof raw.c !== "string" ||
    typeof raw.e !== "number" ||
    typeof raw.m !== "string"
  ) {
    return { ok: false, reason: "invalid" };
  }
  const claim: MediaClaim = {
    file: raw.f,
    conversation: raw.c,
    expiresAt: raw.e,
    mime: raw.m,
    name: typeof raw.n === "string" ? raw.n : undefined,
  };
  if (nowMs / 1000 > claim.expiresAt) return { ok: false, reason: "expired", claim };
  return { ok: true, claim };
}
