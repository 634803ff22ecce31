// The setup code a device scans or pastes: base64url (no padding) of JSON {url, bootstrapToken, expiresAtMs}.
// The URL must not send the bootstrap token in cleartext across a network we cannot vouch for.
import { cleartextAllowedHost } from "../security/ip-ranges.ts";

export interface SetupPayload {
  /** The gateway's base URL: the device POSTs to <url>/bridge/handshake. */
  url: string;
  bootstrapToken: string;
  expiresAtMs: number;
}

export function encodeSetupCode(payload: SetupPayload): string {
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

export function decodeSetupCode(code: string): SetupPayload | undefined {
  try {
    const v = JSON.parse(Buffer.from(code.trim(), "base64url").toString("utf8"));
    if (
      typeof v?.url === "string" &&
      typeof v?.bootstrapToken === "string" &&
      Number.isFinite(v?.expiresAtMs)
    )
      return { url: v.url, bootstrapToken: v.bootstrapToken, expiresAtMs: v.expiresAtMs };
  } catch {
    // not a setup code
  }
  return undefined;
}

/**
 * Why a URL may not be put in a setup code, or undefined when it may. https:// and wss:// are always fine;
 * http:// and ws:// only to loopback, 10.0.2.2, *.local, RFC 1918, 169.254/16, fe80::/10 and fc00::/7.
 */
export function setupUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `${url} is not a valid URL`;
  }
  if (u.protocol === "https:" || u.protocol === "wss:") return undefined;
  if (u.protocol !== "http:" && u.protocol !== "ws:")
    return `${u.protocol} URLs cannot be used for pairing; use https:// or wss://`;
  if (cleartextAllowedHost(u.hostname)) return undefined;
  return `the pairing URL ${u.origin} is cleartext (${u.protocol}//) to a host that is not on a private network; serve the gateway over https:// (set security.pairing.publicUrl or server.publicBaseUrl to the https URL)`;
}
