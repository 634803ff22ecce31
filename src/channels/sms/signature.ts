// Twilio's request signature: base64 HMAC-SHA1 keyed with the auth token over the full URL Twilio called
// followed by every POST parameter sorted by name, each as name + value (repeated names: distinct values sorted).
//
// Which URL spellings count is Twilio's own validator's rule (twilio-node `validateRequest`), so deliveries
// it accepts are not refused here and retried forever: the URL as configured, with its port removed, or with
// the scheme's default port added when it has none (:443 for https, :80 otherwise); failing those, the same
// two for the URL as WHATWG-normalized (`new URL().href`: lower-case host, default port dropped, characters
// percent-encoded), and those again with the query re-encoded as Node's legacy `querystring` does. Nothing
// else: another port, scheme, host or path is refused.
import { parse as parseQuery, stringify as stringifyQuery } from "node:querystring";
import { hmac, safeEqualString } from "../../security/hmac.ts";

export function twilioSignature(authToken: string, url: string, params: URLSearchParams): Buffer {
  const seen = new Set<string>();
  const pairs = [...params.entries()]
    .filter(([k, v]) => {
      // A repeated name with the same value counts once (Twilio's validator keeps distinct values only).
      const id = JSON.stringify([k, v]);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const data = url + pairs.map(([k, v]) => k + v).join("");
  return hmac("sha1", authToken, Buffer.from(data, "utf8"));
}

interface UrlParts {
  /** "https://" as written */
  scheme: string;
  /** "user:pw@" or "" */
  userInfo: string;
  host: string;
  /** ":8443" or "" */
  port: string;
  /** everything after the authority, untouched */
  rest: string;
}

/** Splits without normalizing: Twilio signs the exact characters of the URL it was given. */
function splitUrl(url: string): UrlParts | undefined {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!m) return undefined;
  const authority = m[2]!;
  const at = authority.lastIndexOf("@");
  const hostPort = authority.slice(at + 1);
  // In an IPv6 literal the colons inside the brackets are not a port separator.
  const colon = hostPort.indexOf(":", hostPort.lastIndexOf("]") + 1);
  return {
    scheme: m[1]!,
    userInfo: authority.slice(0, at + 1),
    host: colon === -1 ? hostPort : hostPort.slice(0, colon),
    port: colon === -1 ? "" : hostPort.slice(colon),
    rest: url.slice(m[0].length),
  };
}

const join = (p: UrlParts, port: string) => p.scheme + p.userInfo + p.host + port + p.rest;

/** The URL without its port, and with the scheme's default port when it has none. */
function portSpellings(url: string): string[] {
  const p = splitUrl(url);
  if (!p) return [url];
  const withPort = p.port ? url : join(p, p.scheme.toLowerCase() === "https://" ? ":443" : ":80");
  return [join(p, ""), withPort];
}

function legacyQuery(url: string): string {
  const q = url.indexOf("?");
  if (q === -1 || q === url.length - 1) return url;
  return `${url.slice(0, q)}?${stringifyQuery(parseQuery(url.slice(q + 1)))}`;
}

/** Every URL spelling a signature may be computed over, most likely first, without repeats. */
export function signedUrlCandidates(publicUrl: string): string[] {
  const out = portSpellings(publicUrl);
  let normalized: string | undefined;
  try {
    normalized = new URL(publicUrl).href;
  } catch {
    normalized = undefined;
  }
  if (normalized !== undefined) {
    const n = portSpellings(normalized);
    out.push(...n, ...n.map(legacyQuery));
  }
  return [...new Set(out)];
}

/** Constant-time check of X-Twilio-Signature against the configured public URL (never the local one). */
export function verifyTwilioSignature(
  authToken: string,
  publicUrl: string | string[],
  params: URLSearchParams,
  presented: string | undefined,
): boolean {
  const candidates = Array.isArray(publicUrl) ? publicUrl : signedUrlCandidates(publicUrl);
  if (!presented) return false;
  // The header must be the base64 digest exactly, as Twilio's validator compares it (no lenient decoding of
  // url-safe letters, missing padding or stray characters). Every candidate is checked, no early exit.
  let ok = false;
  for (const url of candidates) {
    if (safeEqualString(twilioSignature(authToken, url, params).toString("base64"), presented)) ok = true;
  }
  return ok;
}
