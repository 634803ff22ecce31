// Discord REST through @discordjs/rest (it keeps Discord's per-route rate-limit buckets and waits out short
// limits itself). Long waits are handed back to the outbox as RateLimitedError so only that channel's lane
// waits; refusals become PermanentDeliveryError with Discord's message.
import { createHash } from "node:crypto";
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
  /** With enforce_nonce, Discord returns the message it already created with this nonce in the past few minutes. */
  nonce?: string;
  enforce_nonce?: boolean;
}

/** A channel message's nonce (at most 25 characters) derived from the outbox idempotency key: the same on retries. */
export function nonceOf(idempotencyKey: string): string {
  return createHash("sha256").update(idempotencyKey).digest("base64url").slice(0, 25);
}

/** Nobody is pinged by what an agent writes: no @everyone, roles or users unless Discord is told otherwise. */
const NO_PINGS = { allowed_mentions: { parse: [], replied_user: false } };

export class DiscordClient {
  readonly rest: REST;
  /**
   * For calls that create a message and carry no idempotency key (interaction follow-ups): no retry inside the
   * client, where a lost answer would post the message twice. The caller records the attempt and checks.
   */
  readonly #once: REST;

  constructor(o: { token: string; apiBase: string }) {
    const options = {
      api: o.apiBase,
      version: "10",
      timeout: 15_000,
      rejectOnRateLimit: (data: { timeToReset: number }) => data.timeToReset > MAX_INLINE_RATE_LIMIT_MS,
    };
    this.rest = new REST({ ...options, retries: 2 }).setToken(o.token);
    this.#once = new REST({ ...options, retries: 0 }).setToken(o.token);
  }

  /** Bulk overwrite of the application's commands, globally or in one guild. */
  putCommands(applicationId: string, guildId: string | undefined, commands: unknown[]): Promise<unknown> {
    const route = guildId
      ? `/applications/${applicationId}/guilds/${guildId}/commands`
      : `/applications/${applicationId}/commands`;
    return this.#call(() => this.rest.put(route as `/${string}`, { body: commands }));
  }

  /** The channel's messages created after `afterId` (newest first, at most 100). */
  messagesAfter(channelId: string, afterId: string): Promise<DcMessage[]> {
    return this.#call(
      () =>
        this.rest.get(`/channels/${channelId}/messages`, {
          query: new URLSearchParams({ after: afterId, limit: "100" }),
        }) as Promise<DcMessage[]>,
    );
  }

  /** Replaces the interaction's original response (the deferred "thinking…" message). */
  editOriginal(
    applicationId: string,
    token: string,
    body: MessageBody,
    files?: RawFile[],
  ): Promise<DcMessage> {
    return this.#call(
      () =>
        this.rest.patch(`/webhooks/${applicationId}/${token}/messages/@original`, {
          body: { ...body, ...NO_PINGS },
          files,
          auth: false,
        }) as Promise<DcMessage>,
    );
  }

  /** One more message in answer to the interaction (wait=true: Discord returns it, with its id). */
  createFollowUp(
    applicationId: string,
    token: string,
    body: MessageBody,
    files?: RawFile[],
  ): Promise<DcMessage> {
    return this.#call(
      () =>
        this.#once.post(`/webhooks/${applicationId}/${token}`, {
          body: { ...body, ...NO_PINGS },
          files,
          query: new URLSearchParams({ wait: "true" }),
          auth: false,
        }) as Promise<DcMessage>,
    );
  }

  me(): Promise<DcUser> {
    return this.#call(() => this.rest.get("/users/@me") as Promise<DcUser>);
  }

  channel(id: string): Promise<DcChannel> {
    return this.#call(() => this.rest.get(`/channels/${id}`) as Promise<DcChannel>);
  }

  /** `once`: no retry inside the client (the caller records the attempt and checks before sending again). */
  createMessage(channelId: string, body: MessageBody, files?: RawFile[], once = false): Promise<DcMessage> {
    return this.#call(
      () =>
        (once ? this.#once : this.rest).post(`/channels/${channelId}/messages`, {
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

  /**
   * Interaction response: 4 = reply with a message, 5 = deferred reply (the user sees "thinking…" until the
   * original response is edited), 6 = deferred update (acknowledge a button, change nothing).
   */
  interactionCallback(id: string, token: string, type: 4 | 5 | 6, data?: MessageBody): Promise<unknown> {
    return this.#call(() =>
      this.rest.post(`/interactions/${id}/${token}/callback`, {
        body: { type, ...(data ? { data } : {}) },
        auth: false,
      }),
    );
  }

  /** GET /applications/@me: the bot's application, whose flags say which privileged intents are on. */
  application(): Promise<{ id: string; name?: string; flags?: number }> {
    return this.#call(() => this.rest.get("/applications/@me") as Promise<{ id: string; flags?: number }>);
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

/**
 * The interaction token cannot be used (any more): 10015 Unknown Webhook (never acknowledged, or Discord lost it),
 * 10062 Unknown interaction (not acknowledged within 3 s), 50027 Invalid Webhook Token (older than 15 minutes).
 */
export function isDeadInteraction(err: unknown): boolean {
  return err instanceof DiscordRefusedError && [10015, 10062, 50027].includes(Number(err.code));
}

/** 413 / 40005 "Request entity too large": the files are over the channel's upload limit. */
export function isUploadTooLarge(err: unknown): boolean {
  return err instanceof DiscordRefusedError && (err.status === 413 || Number(err.code) === 40005);
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
