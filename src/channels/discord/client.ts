// Discord REST through @discordjs/rest (it keeps Discord's per-route rate-limit buckets and waits out short
// limits itself). Long waits are handed back to the outbox as RateLimitedError so only that channel's lane
// waits; refusals become PermanentDeliveryError with Discord's message.
import { DiscordAPIError, HTTPError, RateLimitError, type RawFile, REST } from "@discordjs/rest";
import { PermanentDeliveryError, RateLimitedError } from "../types.ts";
import type { DcChannel, DcMessage, DcUser } from "./types.ts";

/** Rate-limit waits longer than this go back to the outbox instead of holding a delivery slot. */
const MAX_INLINE_RATE_LIMIT_MS = 3000;

export interface MessageBody {
  content?: string;
  components?: unknown[];
  message_reference?: { message_id: string; fail_if_not_exists: boolean };
  attachments?: { id: number; filename: string }[];
  flags?: number;
}

/** Nobody is pinged by what an agent writes: no @everyone, roles or users unless Discord is told otherwise. */
const NO_PINGS = { allowed_mentions: { parse: [], replied_user: false } };

export class DiscordClient {
  readonly rest: REST;

  constructor(o: { token: string; apiBase: string }) {
    this.rest = new REST({
      api: o.apiBase,
      version: "10",
      timeout: 15_000,
      retries: 2,
      rejectOnRateLimit: (data) => data.timeToReset > MAX_INLINE_RATE_LIMIT_MS,
    }).setToken(o.token);
  }

  me(): Promise<DcUser> {
    return this.#call(() => this.rest.get("/users/@me") as Promise<DcUser>);
  }

  channel(id: string): Promise<DcChannel> {
    return this.#call(() => this.rest.get(`/channels/${id}`) as Promise<DcChannel>);
  }

  createMessage(channelId: string, body: MessageBody, files?: RawFile[]): Promise<DcMessage> {
    return this.#call(
      () =>
        this.rest.post(`/channels/${channelId}/messages`, {
          body: { ...body, ...NO_PINGS },
          files,
        }) as Promise<DcMessage>,
    );
  }

  editMessage(channelId: string, messageId: string, body: MessageBody): Promise<DcMessage> {
    return this.#call(
      () =>
        this.rest.patch(`/channels/${channelId}/messages/${messageId}`, {
          body: { ...body, ...NO_PINGS },
        }) as Promise<DcMessage>,
    );
  }

  /** Interaction response: 6 = deferred update (acknowledge, change nothing), 4 = reply with a message. */
  interactionCallback(id: string, token: string, type: 4 | 6, data?: MessageBody): Promise<unknown> {
    return this.#call(() =>
      this.rest.post(`/interactions/${id}/${token}/callback`, {
        body: { type, ...(data ? { data } : {}) },
        auth: false,
      }),
    );
  }

  /** A follow-up message after an interaction was acknowledged (flags 64: only the presser sees it). */
  followUp(applicationId: string, token: string, data: MessageBody): Promise<unknown> {
    return this.#call(() =>
      this.rest.post(`/webhooks/${applicationId}/${token}`, { body: data, auth: false }),
    );
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapError(err);
    }
  }
}

export function mapError(err: unknown): Error {
  if (err instanceof RateLimitError) {
    return new RateLimitedError(
      Math.max(err.timeToReset, err.retryAfter),
      `Discord rate limit on ${err.route}`,
    );
  }
  if (err instanceof DiscordAPIError) {
    if (err.status === 429) return new RateLimitedError(1000, `Discord: ${err.message}`);
    if (err.status >= 500)
      return new Error(`Discord ${err.method.toUpperCase()} failed: HTTP ${err.status} ${err.message}`);
    return new DiscordRefusedError(
      `Discord refused (HTTP ${err.status}, code ${err.code}): ${err.message}`,
      err.status,
      err.code,
    );
  }
  if (err instanceof HTTPError) return new Error(`Discord: HTTP ${err.status} ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}

/** A 4xx from Discord: retrying will not help. `code` is Discord's JSON error code (40060: already acknowledged). */
export class DiscordRefusedError extends PermanentDeliveryError {
  readonly status: number;
  readonly code: number | string;
  constructor(message: string, status: number, code: number | string) {
    super(message);
    this.name = "DiscordRefusedError";
    this.status = status;
    this.code = code;
  }
}
