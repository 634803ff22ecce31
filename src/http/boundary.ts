// The browser-facing rules of the HTTP boundary, as pure functions of the request's headers (no I/O):
// - Host: a request whose Host is not one of the listener's own names is a DNS-rebinding attempt (a page on
//   attacker.example whose name now resolves to 127.0.0.1) and is refused.
// - Origin: a browser names the page that sent a request; a page of another origin may not act here.
// - Content type: browsers send text/plain, form and multipart bodies cross-site without a preflight, so
//   state-changing JSON routes take JSON only with a JSON content type.
// - Proxy headers: a request relayed by a reverse proxy on this machine arrives from loopback but is not local.
import { isIP } from "node:net";

/** What a route is, which decides the rules the server applies before its handler runs. */
export type RouteKind = "webhook" | "admin" | "bridge" | "webchat" | "media" | "health" | "callback";

const HOST_CHECKED: ReadonlySet<RouteKind> = new Set(["admin", "bridge", "webchat", "media"]);
const ORIGIN_CHECKED: ReadonlySet<RouteKind> = new Set(["admin", "bridge", "webchat"]);
const JSON_ONLY: ReadonlySet<RouteKind> = new Set(["admin", "bridge", "webchat"]);
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export const hostChecked = (kind: RouteKind) => HOST_CHECKED.has(kind);
export const originChecked = (kind: RouteKind) => ORIGIN_CHECKED.has(kind);
export const jsonOnly = (kind: RouteKind, method: string) =>
  JSON_ONLY.has(kind) && STATE_CHANGING.has(method);

/** A route registered without a declared kind: judged by its path, so a forgotten declaration fails closed. */
export function kindForPath(path: string): RouteKind {
  if (path.startsWith("/admin/")) return "admin";
  if (path.startsWith("/bridge/") || path.startsWith("/openclaw/bridge/")) return "bridge";
  if (path.startsWith("/api/")) return "webchat";
  return "webhook";
}

/**
 * Headers a reverse proxy or CDN adds to name the client it relays for. A loopback request carrying any of them
 * was relayed (nginx, Caddy, cloudflared, a CDN edge) and is treated as remote.
 */
export const PROXY_HEADERS = [
  "x-forwarded-for",
  "forwarded",
  "x-real-ip",
  "cf-connecting-ip",
  "true-client-ip",
  "x-client-ip",
  "x-cluster-client-ip",
  "fastly-client-ip",
  "x-forwarded-host",
] as const;

export function isProxied(headers: Record<string, string | string[] | undefined>): boolean {
  return PROXY_HEADERS.some((h) => headers[h] !== undefined);
}

export function isLoopbackAddress(a: string): boolean {
  return a === "::1" || a.startsWith("127.") || a.startsWith("::ffff:127.");
}

export interface HostPolicy {
  /** Lower-case host names and IP literals (IPv6 in brackets) this listener answers to; "*" allows any. */
  names: ReadonlySet<string>;
  /** The listener is bound to every interface: any IP literal is one of its addresses. */
  anyAddress: boolean;
  /** Origins (scheme://host[:port]) of the gateway's public URLs, accepted as own origins. */
  publicOrigins: ReadonlySet<string>;
}

const WILDCARDS = new Set(["0.0.0.0", "::", "[::]", ""]);

/** The listener's own names: its bound address, the loopback names, the public URLs' hosts and `extra`. */
export function hostPolicy(o: {
  bindHost: string;
  publicUrls?: (string | undefined)[];
  extra?: string[];
}): HostPolicy {
  const names = new Set(["localhost", "127.0.0.1", "[::1]"]);
  const anyAddress = WILDCARDS.has(o.bindHost);
  if (!anyAddress) names.add(normalizeName(o.bindHost));
  const publicOrigins = new Set<string>();
  for (const u of o.publicUrls ?? []) {
    if (!u) continue;
    try {
      const url = new URL(u);
      names.add(url.hostname.toLowerCase());
      publicOrigins.add(url.origin);
    } catch {
      // The schema validated these; an unparsable one simply adds nothing.
    }
  }
  for (const e of o.extra ?? []) names.add(e === "*" ? "*" : normalizeName(e));
  return { names, anyAddress, publicOrigins };
}

/** "LocalHost." → "localhost", "::1" → "[::1]". */
function normalizeName(name: string): string {
  const n = name.trim().toLowerCase().replace(/\.$/, "");
  return isIP(n) === 6 ? `[${n}]` : n;
}

/** Host header → {hostname, port}; undefined when it cannot be a host. */
export function parseHost(host: string): { hostname: string; port: string } | undefined {
  if (!host || /[\s/?#@\\]/.test(host)) return undefined;
  try {
    const u = new URL(`http://${host}`);
    return { hostname: u.hostname.replace(/\.$/, ""), port: u.port };
  } catch {
    return undefined;
  }
}

/** True when the Host header names this listener. A request without Host (HTTP/1.0) comes from no browser. */
export function hostAllowed(policy: HostPolicy, host: string | undefined): boolean {
  if (host === undefined) return true;
  if (policy.names.has("*")) return true;
  const parsed = parseHost(host);
  if (!parsed) return false;
  if (policy.names.has(parsed.hostname)) return true;
  // An IP literal cannot be rebound: an attacker's page is never served from the victim's own address.
  return policy.anyAddress && (isIP(parsed.hostname) !== 0 || parsed.hostname.startsWith("["));
}

/**
 * True when `origin` is this listener's own: the same host and port as the request's Host (which the Host rule
 * has vetted), or the origin of a configured public URL (a TLS proxy in front, possibly rewriting Host).
 * "null" (sandboxed frames, file: pages) is foreign.
 */
export function originAllowed(policy: HostPolicy, origin: string, host: string | undefined): boolean {
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  if (o.protocol !== "http:" && o.protocol !== "https:") return false;
  if (policy.publicOrigins.has(o.origin)) return true;
  const h = host === undefined ? undefined : parseHost(host);
  if (!h || h.hostname !== o.hostname) return false;
  const originPort = o.port || (o.protocol === "https:" ? "443" : "80");
  // Without a port in Host the client used its scheme's default port, which we cannot see behind a TLS proxy.
  return h.port === "" ? o.port === "" : h.port === originPort;
}

/** application/json, optionally with parameters (charset), or any +json type (application/merge-patch+json). */
export function isJsonContentType(value: string | undefined): boolean {
  return value !== undefined && /^application\/(?:[\w.!#$&^-]+\+)?json\s*(?:;|$)/i.test(value.trim());
}

/** The request announces a body (a length above zero, or chunked). */
export function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const te = headers["transfer-encoding"];
  if (te !== undefined) return true;
  const cl = headers["content-length"];
  return cl !== undefined && cl !== "0";
}
