// The bytes of what a user sent on LINE: GET /v2/bot/message/{messageId}/content on the data API host
// (api-data.line.me) with the channel access token. LINE converts videos and audio after they are sent; until
// /content/transcoding says "succeeded" the content cannot be read, so "processing" is a retryable error.
// Content an app sent from its own server (contentProvider "external") is fetched from that URL, through the
// URL guard and without the token.
import type { Attachment } from "../../core/event.ts";
import type { FetchPolicy } from "../../security/url-guard.ts";
import { AttachmentUnavailableError, downloadFromPlatform, hostOf } from "../sdk/download.ts";
import { PlatformClientError, platformFetch } from "../shared/platform-fetch.ts";
import type { FetchedMedia, FetchLimits } from "../types.ts";

export interface LineContentSource {
  apiBase: string;
  dataApiBase: string;
  token: string;
  policy: FetchPolicy;
}

/** LINE has not finished converting a video or audio message: the worker retries later. */
export class LineContentNotReadyError extends Error {
  constructor(what: string) {
    super(`${what} is still being prepared by LINE (transcoding "processing"); retrying later`);
    this.name = "LineContentNotReadyError";
  }
}

const TRANSCODED = new Set(["video", "audio", "voice"]);

export async function fetchLineContent(
  s: LineContentSource,
  a: Attachment,
  limits: FetchLimits,
): Promise<FetchedMedia> {
  const what = `the LINE ${a.kind === "voice" ? "voice message" : a.kind}${a.name ? ` "${a.name}"` : ""}`;
  const ownHosts = [hostOf(s.dataApiBase), hostOf(s.apiBase)];
  const named = a.name ? { name: a.name } : {};
  if (a.url) {
    const got = await downloadFromPlatform({
      url: a.url,
      fromPayload: true,
      ownHosts,
      policy: s.policy,
      limits,
      what,
    });
    return { ...got, ...named };
  }
  if (!a.platformId) throw new AttachmentUnavailableError(`${what} cannot be downloaded from LINE`);
  const base = `${s.dataApiBase}/v2/bot/message/${encodeURIComponent(a.platformId)}/content`;
  const auth = { authorization: `Bearer ${s.token}` };
  if (TRANSCODED.has(a.kind)) await assertTranscoded(`${base}/transcoding`, auth, what, limits.signal);
  const got = await downloadFromPlatform({
    url: base,
    headers: auth,
    ownHosts,
    policy: s.policy,
    limits,
    what,
  });
  // An empty answer (202 Accepted has been seen) means the same as "processing".
  if (got.bytes.length === 0) throw new LineContentNotReadyError(what);
  return { ...got, ...named };
}

async function assertTranscoded(
  url: string,
  headers: Record<string, string>,
  what: string,
  signal: AbortSignal,
): Promise<void> {
  let status: unknown;
  try {
    const res = await platformFetch<{ status?: unknown }>(url, { headers, signal, what: `${what} (status)` });
    status = res.body?.status;
  } catch (err) {
    if (err instanceof PlatformClientError) {
      throw new AttachmentUnavailableError(
        `${what} could not be downloaded: LINE answered ${err.status}${err.status === 401 ? " (check channels.line.channelAccessToken)" : " (the message is gone or expired)"}`,
      );
    }
    throw err;
  }
  if (status === "processing") throw new LineContentNotReadyError(what);
  if (status === "failed") {
    throw new AttachmentUnavailableError(`${what} could not be downloaded: LINE failed to prepare it`);
  }
}
