// Fetching an inbound attachment's bytes from a platform, the one way every channel does it: from the
// platform's own hosts (the API base URLs the operator configured, so a local test double counts as the
// platform), with the bot's credentials sent there only, redirects re-checked by the URL guard (a CDN is a
// public host; credentials are dropped on a change of origin), and the size limit enforced on the declared
// length and on the bytes as they arrive.
import { MediaTooLargeError } from "../../core/too-large.ts";
import { type FetchPolicy, guardedFetch, redactUrl } from "../../security/url-guard.ts";
import type { FetchedMedia, FetchLimits } from "../types.ts";

/** The platform says the file is gone, or that the bot may not read it: retrying will not help. */
export class AttachmentUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AttachmentUnavailableError";
  }
}

export interface PlatformDownload {
  url: string;
  /** Sent to the first origin only (the bot token); a redirect to another origin goes without them. */
  headers?: Record<string, string>;
  /** Host names of the platform's own API and file endpoints, as configured (api.telegram.org, a fake's 127.0.0.1). */
  ownHosts: string[];
  /** The operator's fetch policy (security.allowPrivateFetch, security.fetchAllowHosts). */
  policy: FetchPolicy;
  limits: FetchLimits;
  /**
   * The URL came in a webhook payload (a Twilio MediaUrl, a Kakao image URL) rather than from the platform's API:
   * it may name any host, which must then pass the URL guard like a link a user pasted.
   */
  fromPayload?: boolean;
  /** A name for error messages ("the Telegram file"). */
  what?: string;
  timeoutMs?: number;
}

export function hostOf(url: string): string {
  return new URL(url).hostname.toLowerCase().replace(/^\[|\]$/g, "");
}

export async function downloadFromPlatform(o: PlatformDownload): Promise<FetchedMedia> {
  o.limits.signal.throwIfAborted();
  const own = new Set(o.ownHosts.map((h) => h.toLowerCase()));
  const what = o.what ?? "the attachment";
  const first = hostOf(o.url);
  if (!o.fromPayload && !own.has(first)) {
    throw new AttachmentUnavailableError(
      `${what} is at ${redactUrl(o.url)}, not on the platform's own hosts`,
    );
  }
  // Credentials go to the platform only: a payload URL on a foreign host gets none.
  const headers = own.has(first) ? o.headers : undefined;
  const res = await guardedFetch(
    o.url,
    { ...o.policy, allowHosts: [...(o.policy.allowHosts ?? []), ...own] },
    { headers, maxBytes: o.limits.maxBytes, maxRedirects: 3, timeoutMs: o.timeoutMs ?? 60_000 },
  );
  o.limits.signal.throwIfAborted();
  if (res.status === 404 || res.status === 410 || res.status === 401 || res.status === 403) {
    throw new AttachmentUnavailableError(
      `${what} could not be downloaded: ${redactUrl(res.url)} answered ${res.status}${res.status >= 404 ? " (the file is gone or expired)" : " (the bot's credentials were refused)"}`,
    );
  }
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${what} could not be downloaded: ${redactUrl(res.url)} answered ${res.status}`);
  }
  const type = res.headers["content-type"];
  return { bytes: res.body, ...(type ? { mime: String(type) } : {}) };
}

export { MediaTooLargeError };
