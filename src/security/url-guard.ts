// The SSRF guard for every URL the gateway fetches on a chat user's behalf (an attachment link, an image URL a
// user pasted, a media URL from a webhook payload). It refuses loopback, private, link-local and reserved
// addresses — after resolving DNS, checking every address — unless the operator allowed them in config
// (`security.allowPrivateFetch`, or the host listed in `security.fetchAllowHosts`).
//
// Use `guardedFetch` when you can: it re-checks the addresses at connect time (so a DNS answer that changes
// between the check and the connection cannot slip through), re-checks every redirect (address and the
// caller's own rule, such as a host allowlist) and never lets a POST follow one. `assertUrlAllowed`
// is the pre-check for callers that must use another client.
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { IncomingHttpHeaders } from "node:http";
import { isIP, type LookupFunction } from "node:net";
import { MediaTooLargeError } from "../core/too-large.ts";
import { http, https } from "../runtime/node-http.ts";
import { bareHost, isPublicAddress } from "./ip-ranges.ts";

export interface FetchPolicy {
  /** Allow private and loopback addresses everywhere (a trusted single-user setup). */
  allowPrivate?: boolean;
  /** Hosts (names or IP literals, lower-case) that may be fetched whatever they resolve to. */
  allowHosts?: string[];
}

export class UrlRefusedError extends Error {
  readonly url: string;
  constructor(
    url: string,
    reason: string,
    hint = "An operator can allow it with security.fetchAllowHosts or security.allowPrivateFetch.",
  ) {
    super(`refused to fetch ${redactUrl(url)}: ${reason}.${hint ? ` ${hint}` : ""}`);
    this.name = "UrlRefusedError";
    this.url = url;
  }
}

/** The fetch policy from the config's `security` section. */
export function fetchPolicyFromConfig(config: {
  security?: { allowPrivateFetch?: boolean; fetchAllowHosts?: string[] };
}): FetchPolicy {
  return {
    allowPrivate: config.security?.allowPrivateFetch ?? false,
    allowHosts: (config.security?.fetchAllowHosts ?? []).map((h) => h.toLowerCase()),
  };
}

/** Drops credentials and the query from a URL so it can appear in an error or a log line. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

type Resolver = (host: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    ),
  );

function parse(url: string | URL): URL {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    throw new UrlRefusedError(String(url), "not a valid URL");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UrlRefusedError(u.href, `scheme ${u.protocol} is not allowed (only http and https)`);
  return u;
}

function hostAllowed(u: URL, policy: FetchPolicy): boolean {
  return (
    policy.allowPrivate === true || (policy.allowHosts ?? []).includes(bareHost(u.hostname).toLowerCase())
  );
}

/**
 * Resolves the URL's host and refuses it unless every address is public (or the policy allows the host).
 * Returns the parsed URL.
 */
export async function assertUrlAllowed(
  url: string | URL,
  policy: FetchPolicy,
  resolve: Resolver = systemResolver,
): Promise<URL> {
  const u = parse(url);
  if (hostAllowed(u, policy)) return u;
  const host = bareHost(u.hostname);
  if (isIP(host)) {
    if (!isPublicAddress(host)) throw new UrlRefusedError(u.href, `${host} is a private or reserved address`);
    return u;
  }
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    throw new UrlRefusedError(
      u.href,
      `its host did not resolve (${(err as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
  if (addresses.length === 0) throw new UrlRefusedError(u.href, "its host has no addresses");
  const bad = addresses.find((a) => !isPublicAddress(a.address));
  if (bad)
    throw new UrlRefusedError(u.href, `${host} resolves to ${bad.address}, a private or reserved address`);
  return u;
}

/** A net lookup function that refuses private answers at connect time (closes the DNS-rebinding gap). */
function guardedLookup(u: URL): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return callback(err, "", 0);
      const bad = addresses.find((a) => !isPublicAddress(a.address));
      if (bad || addresses.length === 0) {
        return callback(
          new UrlRefusedError(u.href, `${hostname} resolves to ${bad?.address ?? "nothing"}`),
          "",
          0,
        );
      }
      if ((options as { all?: boolean }).all)
        return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The final URL after redirects. */
  url: string;
}

export interface GuardedFetchOptions {
  method?: "GET" | "HEAD" | "POST";
  headers?: Record<string, string>;
  /** A POST body. A POST is never replayed to a redirect target: its redirects are refused. */
  body?: Buffer | string;
  /** Largest body accepted (default 8 MB); a larger one is an error, not a truncation. */
  maxBytes?: number;
  /** Redirects followed (default 3), each hop checked again; 0 refuses every redirect. */
  maxRedirects?: number;
  /**
   * The caller's own rule for every URL reached, the first and each redirect target (a host allowlist):
   * returns why a URL is refused, or undefined to allow it. Applied on top of the address check, never instead.
   */
  checkUrl?: (u: URL) => string | undefined;
  timeoutMs?: number;
}

/** A redirect the caller did not allow (a POST, `maxRedirects: 0`, or too many hops): never followed. */
export class RedirectRefusedError extends Error {
  readonly status: number;
  constructor(url: string, status: number, why: string) {
    super(`${redactUrl(url)} answered ${status} (a redirect), which is not followed: ${why}`);
    this.name = "RedirectRefusedError";
    this.status = status;
  }
}

/**
 * Fetches a URL that came from outside (a chat message, a webhook payload, a callback URL in a request) with
 * the guard applied to the first URL and every redirect: private addresses refused at check and at connect
 * time, the caller's `checkUrl` applied to each hop, at most `maxRedirects` hops, and no redirect for a POST.
 */
export async function guardedFetch(
  url: string | URL,
  policy: FetchPolicy,
  opts: GuardedFetchOptions = {},
): Promise<GuardedResponse> {
  const maxRedirects = opts.method === "POST" ? 0 : (opts.maxRedirects ?? 3);
  let current = await checked(url, policy, opts);
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, policy, opts);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      if (hop >= maxRedirects) {
        throw new RedirectRefusedError(
          current.href,
          res.status,
          maxRedirects === 0 ? "redirects are refused here" : `more than ${maxRedirects} redirects`,
        );
      }
      const next = await checked(new URL(location, current), policy, opts);
      // Credentials were meant for the first origin (a platform's file API), never for where it redirects
      // (a CDN): dropped on a change of origin, as browsers do.
      if (next.origin !== current.origin) opts = { ...opts, headers: withoutCredentials(opts.headers) };
      current = next;
      continue;
    }
    return res;
  }
}

function withoutCredentials(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return headers;
  return Object.fromEntries(
    Object.entries(headers).filter(
      ([k]) => !["authorization", "cookie", "proxy-authorization"].includes(k.toLowerCase()),
    ),
  );
}

async function checked(url: string | URL, policy: FetchPolicy, opts: GuardedFetchOptions): Promise<URL> {
  const u = parse(url);
  const why = opts.checkUrl?.(u);
  if (why) throw new UrlRefusedError(u.href, why, "");
  return assertUrlAllowed(u, policy);
}

function requestOnce(u: URL, policy: FetchPolicy, opts: GuardedFetchOptions): Promise<GuardedResponse> {
  const maxBytes = opts.maxBytes ?? 8 * 1024 * 1024;
  const request = u.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: opts.method ?? "GET",
        headers: opts.headers,
        timeout: opts.timeoutMs ?? 15_000,
        ...(hostAllowed(u, policy) ? {} : { lookup: guardedLookup(u) }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const tooLarge = () => {
          reject(
            new MediaTooLargeError(
              `the file at ${redactUrl(u.href)} is larger than ${maxBytes} bytes, the limit here`,
              maxBytes,
            ),
          );
          req.destroy();
        };
        // A declared length over the limit is refused before a byte is read.
        if (Number(res.headers["content-length"] ?? 0) > maxBytes) return tooLarge();
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) return tooLarge();
          chunks.push(c);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            url: u.href,
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`fetching ${redactUrl(u.href)} timed out`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}
