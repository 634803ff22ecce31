// Downloading an inbound WeChat file. A MediaId is temporary media (kept three days): GET
// /cgi-bin/media/get?access_token=…&media_id=… answers the bytes, or — always with HTTP 200 — a JSON
// {errcode, errmsg} (40007: the id is invalid or expired; 40001/42001: the token, refreshed once) or, for a
// video, {video_url} to fetch from WeChat's CDN. Without appId/appSecret only an image's PicUrl can be fetched.
import type { Attachment } from "../../core/event.ts";
import type { FetchPolicy } from "../../security/url-guard.ts";
import { AttachmentUnavailableError, downloadFromPlatform, hostOf } from "../sdk/download.ts";
import { type FetchedMedia, type FetchLimits, PermanentDeliveryError } from "../types.ts";
import { TOKEN_INVALID, type WechatClient } from "./client.ts";

export interface WechatMediaSource {
  apiBase: string;
  policy: FetchPolicy;
  /** Undefined when appId/appSecret are not configured. */
  client: WechatClient | undefined;
}

interface MediaAnswer {
  errcode?: number;
  errmsg?: string;
  video_url?: string;
}

export async function fetchWechatMedia(
  src: WechatMediaSource,
  attachment: Attachment,
  limits: FetchLimits,
): Promise<FetchedMedia> {
  const what = `the WeChat ${attachment.kind}`;
  if (attachment.platformId && src.client) {
    return fromMediaApi(src, src.client, attachment.platformId, limits, what);
  }
  if (attachment.url) {
    // PicUrl names WeChat's image CDN (mmbiz.qpic.cn): a host outside the API, so it passes the URL guard.
    return downloadFromPlatform({
      url: attachment.url,
      ownHosts: [hostOf(src.apiBase)],
      policy: src.policy,
      limits,
      fromPayload: true,
      what,
    });
  }
  throw new AttachmentUnavailableError(
    attachment.platformId
      ? `${what} can only be downloaded through WeChat's media API: set OPENCLAW_CONNECTOR_WECHAT_APP_ID and _APP_SECRET`
      : `${what} names no MediaId or URL to download`,
  );
}

async function fromMediaApi(
  src: WechatMediaSource,
  client: WechatClient,
  mediaId: string,
  limits: FetchLimits,
  what: string,
): Promise<FetchedMedia> {
  const got = await client
    .withAccessToken(
      async (token) => {
        const url = `${src.apiBase}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(mediaId)}`;
        const media = await downloadFromPlatform({
          url,
          ownHosts: [hostOf(src.apiBase)],
          policy: src.policy,
          limits,
          what,
        });
        return { media, answer: jsonAnswer(media) };
      },
      (r) => TOKEN_INVALID.has(r.answer?.errcode ?? 0),
    )
    .catch((err: unknown) => {
      // No access token at all (a wrong AppSecret, an IP not on the allowlist): retrying will not help.
      if (err instanceof PermanentDeliveryError)
        throw new AttachmentUnavailableError(`${what}: ${err.message}`);
      throw err;
    });
  const answer = got.answer;
  if (!answer) return got.media;
  if (answer.video_url) {
    return downloadFromPlatform({
      url: answer.video_url,
      ownHosts: [hostOf(src.apiBase)],
      policy: src.policy,
      limits,
      fromPayload: true,
      what,
    });
  }
  const code = answer.errcode ?? 0;
  const said = `errcode ${code} ${answer.errmsg ?? ""}`.trim();
  if (code === 40007) {
    throw new AttachmentUnavailableError(
      `${what} could not be downloaded: ${said} (WeChat keeps received media for three days)`,
    );
  }
  if (TOKEN_INVALID.has(code) || code === 40013 || code === 40125 || code === 40164) {
    throw new AttachmentUnavailableError(
      `${what} could not be downloaded: ${said}; check OPENCLAW_CONNECTOR_WECHAT_APP_ID / _APP_SECRET and the IP allowlist in the WeChat console`,
    );
  }
  // -1 (busy), quota and anything new: worth another try later.
  throw new Error(`${what} could not be downloaded: ${said}`);
}

/**
 * WeChat's errors and video links arrive as JSON with HTTP 200 where the file would be. Temporary media is
 * only ever an image, voice, video or thumbnail, so a JSON (or JSON-looking text) answer is never the file.
 */
function jsonAnswer(media: FetchedMedia): MediaAnswer | undefined {
  const type = (media.mime ?? "").toLowerCase();
  if (!type.includes("json") && !type.startsWith("text/")) return undefined;
  try {
    const parsed = JSON.parse(media.bytes.toString("utf8")) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as MediaAnswer;
  } catch {
    // not JSON: fall through
  }
  if (type.includes("json")) return { errcode: -2, errmsg: "unreadable JSON answer" };
  return undefined;
}
