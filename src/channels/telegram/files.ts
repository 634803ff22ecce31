// Downloading an inbound Telegram file: getFile(file_id) names a file_path, served at
// {apiBase}/file/bot<token>/<file_path> for at least an hour. The Bot API serves files up to 20 MB only, so a
// larger one is refused from its declared size before anything is fetched.
// https://core.telegram.org/bots/api#getfile
import type { Attachment } from "../../core/event.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import type { FetchPolicy } from "../../security/url-guard.ts";
import { AttachmentUnavailableError, downloadFromPlatform, hostOf } from "../sdk/download.ts";
import { PlatformClientError } from "../shared/platform-fetch.ts";
import type { FetchedMedia, FetchLimits } from "../types.ts";
import { type TelegramClient, telegramDescription } from "./client.ts";

/** The largest file the Bot API lets a bot download ("For the moment, bots can download files of up to 20MB"). */
export const TELEGRAM_MAX_DOWNLOAD = 20 * 1024 * 1024;

interface TgFileInfo {
  file_id: string;
  file_size?: number;
  file_path?: string;
}

export interface TelegramFileSource {
  client: TelegramClient;
  token: string;
  apiBase: string;
  policy: FetchPolicy;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MB`;

/** `size` undefined: Telegram said "file is too big" without saying how big. */
function tooLarge(size: number | undefined, maxBytes: number): MediaTooLargeError {
  if (size === undefined || size > TELEGRAM_MAX_DOWNLOAD) {
    return new MediaTooLargeError(
      `the file is ${size === undefined ? "over 20 MB" : mb(size)}, and Telegram lets bots download files of up to 20 MB only`,
      Math.min(maxBytes, TELEGRAM_MAX_DOWNLOAD),
    );
  }
  return new MediaTooLargeError(`the file is ${mb(size)}, over the limit of ${mb(maxBytes)}`, maxBytes);
}

export async function fetchTelegramFile(
  src: TelegramFileSource,
  attachment: Attachment,
  limits: FetchLimits,
): Promise<FetchedMedia> {
  const fileId = attachment.platformId;
  if (!fileId)
    throw new AttachmentUnavailableError(`this Telegram ${attachment.kind} has no file to download`);
  const max = Math.min(limits.maxBytes, TELEGRAM_MAX_DOWNLOAD);
  if (attachment.size !== undefined && attachment.size > max)
    throw tooLarge(attachment.size, limits.maxBytes);

  let info: TgFileInfo;
  try {
    info = await src.client.call<TgFileInfo>("getFile", { file_id: fileId }, { signal: limits.signal });
  } catch (err) {
    throw getFileError(err, attachment, limits.maxBytes);
  }
  if (info.file_size !== undefined && info.file_size > max) throw tooLarge(info.file_size, limits.maxBytes);
  if (!info.file_path) {
    throw new AttachmentUnavailableError(
      "Telegram's getFile named no file_path: the file cannot be downloaded",
    );
  }
  const base = src.apiBase.replace(/\/+$/, "");
  try {
    const got = await downloadFromPlatform({
      url: `${base}/file/bot${src.token}/${info.file_path}`,
      ownHosts: [hostOf(base)],
      policy: src.policy,
      limits: { maxBytes: max, signal: limits.signal },
      what: "the Telegram file",
    });
    // Telegram serves every file as application/octet-stream: what the message declared says more.
    const served = got.mime && !/^application\/octet-stream\b/i.test(got.mime) ? got.mime : undefined;
    const mime = attachment.mime ?? served;
    const name = attachment.name ?? info.file_path.split("/").pop();
    return { bytes: got.bytes, ...(mime ? { mime } : {}), ...(name ? { name } : {}) };
  } catch (err) {
    throw withoutToken(err, src.token);
  }
}

/** getFile's refusals: "file is too big" (over 20 MB), an unknown or foreign file_id, a revoked token. */
function getFileError(err: unknown, attachment: Attachment, maxBytes: number): unknown {
  if (!(err instanceof PlatformClientError)) return err;
  const description = telegramDescription(err);
  if (/file is too big/i.test(description)) {
    const size = attachment.size;
    return tooLarge(size !== undefined && size > TELEGRAM_MAX_DOWNLOAD ? size : undefined, maxBytes);
  }
  if (err.status === 401 || err.status === 404) {
    return new AttachmentUnavailableError(
      `Telegram refused the bot token when asked for the file (${description}); check the account's botToken`,
    );
  }
  return new AttachmentUnavailableError(`Telegram has no such file any more (${description})`);
}

/** The token is part of the file URL: it must not reach an error message or a log. */
function withoutToken(err: unknown, token: string): unknown {
  if (err instanceof Error && err.message.includes(token)) {
    err.message = err.message.replaceAll(token, "<token>");
    if (err.stack) err.stack = err.stack.replaceAll(token, "<token>");
  }
  return err;
}
