// Twilio's request signature: base64 HMAC-SHA1 keyed with the auth token over the full URL Twilio called
// followed by every POST parameter sorted by name, each as name + value (repeated names: values sorted too).
import { hmac, verifyDigest } from "../../security/hmac.ts";

export function twilioSignature(authToken: string, url: string, params: URLSearchParams): Buffer {
  const pairs = [...params.entries()].sort(([a, av], [b, bv]) =>
    a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0,
  );
  const data = url + pairs.map(([k, v]) => k + v).join("");
  return hmac("sha1", authToken, Buffer.from(data, "utf8"));
}

/** Constant-time check of X-Twilio-Signature against the configured public URL (never the local one). */
export function verifyTwilioSignature(
  authToken: string,
  publicUrl: string,
  params: URLSearchParams,
  presented: string | undefined,
): boolean {
  return verifyDigest(twilioSignature(authToken, publicUrl, params), presented, "base64");
}
