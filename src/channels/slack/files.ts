// Downloading a file someone shared with the bot: GET its url_private with the bot token (Slack serves files
// from files.slack.com). Slack does not refuse a token that lacks the files:read scope: it answers 200 with its
// HTML sign-in page, which would otherwise reach the agent as the "file".
import type { Attachment } from "../../core/event.ts";
import type { FetchPolicy } from "../../security/url-guard.ts";
import { AttachmentUnavailableError, downloadFromPlatform, hostOf } from "../sdk/download.ts";
import type { FetchedMedia, FetchLimits } from "../types.ts";
import { SlackApiError, type SlackClient } from "./client.ts";

/** Where Slack serves url_private and url_private_download. */
export const SLACK_FILE_HOSTS = ["files.slack.com"];

/** The app is set up wrong, not the file: every download will fail until the operator fixes it. */
export class SlackFilesScopeError extends AttachmentUnavailableError {
  constructor() {
    super(
      "Slack sent its sign-in page instead of the file: the bot token lacks the files:read scope (or was refused). Add files:read under OAuth & Permissions → Bot Token Scopes, reinstall the app and copy the new Bot User OAuth Token (xoxb-…) into channels.slack.botToken",
    );
    this.name = "SlackFilesScopeError";
  }
}

export interface SlackFileSource {
  client: SlackClient;
  token: string;
  apiBase: string;
  policy: FetchPolicy;
}

export async function fetchSlackFile(
  s: SlackFileSource,
  a: Attachment,
  limits: FetchLimits,
): Promise<FetchedMedia> {
  const what = `the Slack file${a.name ? ` "${a.name}"` : ""}`;
  let url = a.url;
  let declared = a.mime;
  let name = a.name;
  if (!url && a.platformId) {
    // A Slack Connect stub (file_access: check_file_info) names only the file id.
    const f = await fileInfo(s.client, a.platformId, what);
    url = typeof f.url_private === "string" ? f.url_private : undefined;
    declared ??= typeof f.mimetype === "string" ? f.mimetype : undefined;
    name ??= typeof f.name === "string" ? f.name : undefined;
  }
  if (!url) throw new AttachmentUnavailableError(`${what} has no download URL (Slack did not share it)`);
  const got = await downloadFromPlatform({
    url,
    headers: { authorization: `Bearer ${s.token}` },
    ownHosts: [...SLACK_FILE_HOSTS, hostOf(s.apiBase)],
    policy: s.policy,
    limits,
    what,
  });
  if (!isHtml(declared) && (isHtml(got.mime) || (!got.mime && startsLikeHtml(got.bytes)))) {
    throw new SlackFilesScopeError();
  }
  return { ...got, ...(name ? { name } : {}) };
}

/**
 * files.info for one file. Slack's refusals (file_not_found, missing_scope …) will not change on a retry: the
 * attachment is unavailable. Rate limits and Slack's transient errors are thrown as they are, to be retried.
 */
async function fileInfo(client: SlackClient, id: string, what: string): Promise<Record<string, unknown>> {
  try {
    const info = await client.call<{ ok: boolean; file?: Record<string, unknown> }>(
      "files.info",
      new URLSearchParams({ file: id }),
    );
    return info.file ?? {};
  } catch (err) {
    if (err instanceof SlackApiError) {
      throw new AttachmentUnavailableError(`${what} could not be looked up: ${err.message}`);
    }
    throw err;
  }
}

/** A page without its Content-Type (a proxy dropped it) still starts like one. */
function startsLikeHtml(bytes: Buffer): boolean {
  return /^\s*<(!doctype html|html)[\s>]/i.test(bytes.subarray(0, 64).toString("latin1"));
}

function isHtml(mime: string | undefined): boolean {
  return (mime ?? "").toLowerCase().startsWith("text/html");
}
