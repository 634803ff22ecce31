// Downloading an inbound WhatsApp file: the media id from the webhook is resolved through the Graph API
// (GET /{version}/{media-id} → {url, mime_type, sha256, file_size}), then the URL (lookaside.fbsbx.com, valid
// for five minutes) is fetched with the same bearer token, and the bytes are checked against Meta's sha256.
import { createHash } from "node:crypto";
import type { Attachment } from "../../core/event.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import type { FetchPolicy } from "../../security/url-guard.ts";
import { AttachmentUnavailableError, downloadFromPlatform, hostOf } from "../sdk/download.ts";
import { PlatformClientError, platformFetch } from "../shared/platform-fetch.ts";
import type { FetchedMedia, FetchLimits } from "../types.ts";

/** Where Meta serves media files; the configured API host is the platform's too (a test double's 127.0.0.1). */
const MEDIA_HOST = "lookaside.fbsbx.com";

export interface WhatsappMediaSource {
  apiBase: string;
  apiVersion: string;
  phoneNumberId: string;
  token: string;
  policy: FetchPolicy;
}

interface MediaInfo {
  url?: unknown;
  mime_type?: unknown;
  sha256?: unknown;
  file_size?: unknown;
}

export async function fetchWhatsappMedia(
  src: WhatsappMediaSource,
  attachment: Attachment,
  limits: FetchLimits,
): Promise<FetchedMedia> {
  const id = attachment.platformId;
  if (!id) throw new AttachmentUnavailableError("the WhatsApp message names no media id to download");
  // A download whose bytes do not match Meta's hash is fetched once more (a fresh URL): a damaged transfer is
  // rare; the same mismatch twice means the file is not the one the message carried, and is refused.
  for (let attempt = 1; ; attempt++) {
    const info = await resolve(src, id, limits);
    const got = await downloadFromPlatform({
      url: info.url,
      headers: { authorization: `Bearer ${src.token}` },
      ownHosts: [hostOf(src.apiBase), MEDIA_HOST],
      policy: src.policy,
      limits,
      what: `the WhatsApp ${attachment.kind}`,
    });
    if (!info.sha256 || sha256Matches(got.bytes, info.sha256)) {
      return {
        bytes: got.bytes,
        ...((info.mime ?? got.mime) ? { mime: info.mime ?? got.mime } : {}),
        ...(attachment.name ? { name: attachment.name } : {}),
      };
    }
    if (attempt >= 2) {
      throw new AttachmentUnavailableError(
        `the WhatsApp ${attachment.kind} ${id} was refused: its bytes do not match the sha256 WhatsApp gave for it (twice)`,
      );
    }
  }
}

async function resolve(
  src: WhatsappMediaSource,
  id: string,
  limits: FetchLimits,
): Promise<{ url: string; mime?: string; sha256?: string }> {
  const what = "WhatsApp media lookup";
  const url = `${src.apiBase}/${src.apiVersion}/${encodeURIComponent(id)}?phone_number_id=${encodeURIComponent(src.phoneNumberId)}`;
  let info: MediaInfo;
  try {
    ({ body: info } = await platformFetch<MediaInfo>(url, {
      headers: { authorization: `Bearer ${src.token}` },
      signal: limits.signal,
      what,
    }));
  } catch (err) {
    if (!(err instanceof PlatformClientError)) throw err;
    const e = (err.body as { error?: { code?: number; message?: string } } | undefined)?.error;
    if (e?.code === 190 || err.status === 401) {
      throw new AttachmentUnavailableError(
        `${what}: the access token was refused (${e?.message ?? err.status}); set a valid OPENCLAW_CONNECTOR_WHATSAPP_ACCESS_TOKEN`,
      );
    }
    throw new AttachmentUnavailableError(
      `${what}: media ${id} is gone or not readable by this number (${e?.message ?? `HTTP ${err.status}`}); WhatsApp keeps received media for a limited time`,
    );
  }
  if (typeof info?.url !== "string" || !info.url) {
    throw new Error(`${what}: no url in the answer for media ${id}`);
  }
  const size = Number(info.file_size);
  if (Number.isFinite(size) && size > limits.maxBytes) {
    throw new MediaTooLargeError(
      `the file is ${mb(size)} MB, more than the ${mb(limits.maxBytes)} MB accepted`,
      limits.maxBytes,
    );
  }
  return {
    url: info.url,
    ...(typeof info.mime_type === "string" && info.mime_type ? { mime: info.mime_type } : {}),
    ...(typeof info.sha256 === "string" && info.sha256 ? { sha256: info.sha256 } : {}),
  };
}

/** Meta documents a hex digest; payloads have also carried base64, so either spelling is accepted. */
function sha256Matches(bytes: Buffer, expected: string): boolean {
  const digest = createHash("sha256").update(bytes).digest();
  const e = expected.trim();
  return e.toLowerCase() === digest.toString("hex") || e === digest.toString("base64");
}

const mb = (n: number) => (n / (1024 * 1024)).toFixed(1).replace(/\.0$/, "");
