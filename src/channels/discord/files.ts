// Downloading an inbound Discord attachment: its URL on Discord's CDN is signed (ex/is/hm query parameters) and
// valid for about a day, so it is fetched as is, without the bot token, and only from Discord's own hosts (the
// CDN, the media proxy, and the API base the operator configured, which is where a test double serves files).
// https://discord.com/developers/docs/reference#signed-attachment-cdn-urls
import type { Attachment } from "../../core/event.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import type { FetchPolicy } from "../../security/url-guard.ts";
import { AttachmentUnavailableError, downloadFromPlatform, hostOf } from "../sdk/download.ts";
import type { FetchedMedia, FetchLimits } from "../types.ts";

export const DISCORD_CDN_HOSTS = ["cdn.discordapp.com", "media.discordapp.net"];

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MB`;

export async function fetchDiscordFile(
  src: { apiBase: string; policy: FetchPolicy },
  attachment: Attachment,
  limits: FetchLimits,
): Promise<FetchedMedia> {
  if (!attachment.url) {
    throw new AttachmentUnavailableError(`this Discord ${attachment.kind} has no file to download`);
  }
  if (attachment.size !== undefined && attachment.size > limits.maxBytes) {
    throw new MediaTooLargeError(
      `the file is ${mb(attachment.size)}, over the limit of ${mb(limits.maxBytes)}`,
      limits.maxBytes,
    );
  }
  const got = await downloadFromPlatform({
    url: attachment.url,
    ownHosts: [...DISCORD_CDN_HOSTS, hostOf(src.apiBase)],
    policy: src.policy,
    limits,
    what: "the Discord attachment",
  });
  const mime = attachment.mime ?? got.mime;
  return {
    bytes: got.bytes,
    ...(mime ? { mime } : {}),
    ...(attachment.name ? { name: attachment.name } : {}),
  };
}
