// The Slack Web API calls clawgate makes, paced per channel and globally. Slack answers most errors with HTTP 200
// and {ok:false, error}; those are mapped onto the outbox's retry (transient) or dead-letter (everything else).
import { Pacer } from "../../runtime/pacer.ts";
import { pacedCall } from "../shared/paced-call.ts";
import { platformFetch } from "../shared/platform-fetch.ts";
import { PermanentDeliveryError, RateLimitedError } from "../types.ts";

const TRANSIENT = new Set(["internal_error", "fatal_error", "service_unavailable", "request_timeout"]);
const HINTS: Record<string, string> = {
  not_authed: "set OPENCLAW_CONNECTOR_SLACK_BOT_TOKEN (channels.slack.botToken)",
  invalid_auth: "the bot token is wrong; copy the Bot User OAuth Token (xoxb-…) again",
  token_revoked: "the bot token was revoked; reinstall the app and copy the new token",
  account_inactive: "the bot token was revoked; reinstall the app and copy the new token",
  not_in_channel: "invite the bot to the channel (/invite @YourBot)",
  channel_not_found: "the channel does not exist or the bot cannot see it; invite the bot",
  missing_scope: "add the missing scope under OAuth & Permissions and reinstall the app",
};

export class SlackApiError extends PermanentDeliveryError {
  readonly code: string;
  constructor(method: string, code: string, needed?: string) {
    const hint = HINTS[code] ? `: ${HINTS[code]}` : "";
    super(`Slack ${method} failed: ${code}${needed ? ` (needs ${needed})` : ""}${hint}`);
    this.name = "SlackApiError";
    this.code = code;
  }
}

interface SlackResult {
  ok: boolean;
  error?: string;
  needed?: string;
  [key: string]: unknown;
}

/**
 * Slack's "Rate limits" page (docs.slack.dev/apis/web-api/rate-limits): chat.postMessage is in the special tier,
 * about one message per second per channel with short bursts allowed, under a workspace-wide limit Slack does not
 * size. We keep every call about a conversation at one per second with a burst of 3 (a chunked answer), and all
 * calls together at 20 per second; beyond a method's tier Slack answers 429 with Retry-After, which holds the
 * conversation (or, for calls about none, everything) for that long.
 */
export const SLACK_PACE = {
  global: { ratePerSec: 20, burst: 20 },
  channel: { ratePerSec: 1, burst: 3 },
};

export class SlackClient {
  readonly #base: string;
  readonly #token: string;
  readonly #pacer = new Pacer();

  constructor(apiBase: string, token: string) {
    this.#base = apiBase;
    this.#token = token;
  }

  /** Calls a Web API method: JSON by default, a form where Slack requires one. `chat` paces per conversation. */
  async call<T extends SlackResult = SlackResult>(
    method: string,
    args: Record<string, unknown> | URLSearchParams,
    chat?: string,
  ): Promise<T> {
    return (await this.#request<T>(method, args, chat)).body;
  }

  async #request<T extends SlackResult>(
    method: string,
    args: Record<string, unknown> | URLSearchParams,
    chat?: string,
  ): Promise<{ body: T; headers: Headers }> {
    const keys = [{ key: "global", ...SLACK_PACE.global }];
    if (chat) keys.push({ key: `chat:${chat}`, ...SLACK_PACE.channel });
    const blockKey = chat ? `chat:${chat}` : "global";
    return pacedCall(this.#pacer, keys, blockKey, async () => {
      const res = await platformFetch<T>(`${this.#base}/${method}`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.#token}` },
        body: args,
        what: `Slack ${method}`,
      });
      const body = res.body;
      if (!body || typeof body !== "object") throw new Error(`Slack ${method}: unexpected response`);
      if (!body.ok) {
        const code = body.error ?? "unknown_error";
        if (code === "ratelimited") throw new RateLimitedError(1000, `Slack ${method}: ratelimited`);
        if (TRANSIENT.has(code)) throw new Error(`Slack ${method}: ${code} (transient; will retry)`);
        throw new SlackApiError(method, code, body.needed);
      }
      return { body, headers: res.headers };
    });
  }

  async authTest(): Promise<{ userId: string; teamId?: string }> {
    const r = await this.call<SlackResult & { user_id: string; team_id?: string }>("auth.test", {});
    return { userId: r.user_id, teamId: r.team_id };
  }

  /** auth.test with the token's scopes, which Slack lists in the X-OAuth-Scopes header (undefined when absent). */
  async authScopes(): Promise<{ userId: string; teamId?: string; team?: string; scopes?: string[] }> {
    const { body, headers } = await this.#request<
      SlackResult & { user_id: string; team_id?: string; team?: string }
    >("auth.test", {});
    const h = headers.get("x-oauth-scopes");
    const scopes =
      h === null
        ? undefined
        : h
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean);
    return { userId: body.user_id, teamId: body.team_id, team: body.team, scopes };
  }

  /** The current external upload flow: get an upload URL, send the bytes there, then share the file. */
  async uploadFile(o: {
    channel: string;
    threadTs?: string;
    bytes: Buffer;
    filename: string;
    title?: string;
    comment?: string;
  }): Promise<string> {
    const target = await this.call<SlackResult & { upload_url: string; file_id: string }>(
      "files.getUploadURLExternal",
      new URLSearchParams({ filename: o.filename, length: String(o.bytes.length) }),
      o.channel,
    );
    await platformFetch(target.upload_url, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: o.bytes,
      what: "Slack file upload",
      timeoutMs: 120_000,
    });
    await this.call("files.completeUploadExternal", {
      files: [{ id: target.file_id, title: o.title ?? o.filename }],
      channel_id: o.channel,
      ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
      ...(o.comment ? { initial_comment: o.comment } : {}),
    });
    return target.file_id;
  }
}
