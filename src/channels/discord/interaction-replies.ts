// Answers to slash commands go through the interaction, not as channel messages: the command is acknowledged at
// once with a deferred response (the user sees "thinking…"), then the first part of the answer replaces that
// response (PATCH …/messages/@original) and further parts are follow-ups (POST /webhooks/{app}/{token}).
// Interaction tokens last 15 minutes; after that, or when Discord no longer knows the token, the answer goes to
// the channel as a normal message.
//
// Exactly once: the outbox retries a delivery whose outcome it did not record (a crash, a lost answer). Editing
// the original response again is harmless, but a follow-up or a channel message has no idempotency key on
// Discord's side. So each attempt is written down (keyed by the outbox item's idempotency key) before the call
// and its message id after; a retry that finds an attempt without an id looks for that message in the channel
// and sends only when it is not there.
import type { RawFile } from "@discordjs/rest";
import type { Logger } from "pino";
import type { DeliveryAddress } from "../../core/event.ts";
import type { Store } from "../../store/types.ts";
import {
  type DiscordClient,
  type DiscordRefusedError,
  isDeadInteraction,
  type MessageBody,
} from "./client.ts";
import { snowflakeAt } from "./schema.ts";
import type { DcMessage } from "./types.ts";

/** Interaction tokens are valid for 15 minutes after the interaction was created. */
export const INTERACTION_TOKEN_TTL_MS = 15 * 60_000;
/** Past this age a reply goes to the channel without trying the token (leaves time for the call itself). */
const TOKEN_MARGIN_MS = 30_000;
const ATTEMPTS_NS = "discord-reply";
const ORIGINAL_NS = "discord-original";
/** Longer than the outbox keeps retrying one item. */
const RECORD_TTL_MS = 24 * 60 * 60_000;
/** Clock skew and request time allowed when looking for a message an earlier attempt may have created. */
const LOOKBACK_MS = 10_000;
/** An interaction this young may still be waiting for its acknowledgement (Discord allows 3 s). */
const ACK_GRACE_MS = 5000;

export interface SlashReplyContext {
  interactionId: string;
  token: string;
  applicationId: string;
  /** When Discord created the interaction (its snowflake time). */
  at: number;
  channelId: string;
}

/** The interaction to answer through, when the address is a slash command's. */
export function slashContextOf(to: DeliveryAddress): SlashReplyContext | undefined {
  const c = to.replyContext;
  if (c?.slash !== true) return undefined;
  const { interactionId, interactionToken, applicationId, interactionAt, channelId } = c;
  if (typeof interactionId !== "string" || typeof interactionToken !== "string") return undefined;
  if (typeof applicationId !== "string" || typeof interactionAt !== "number") return undefined;
  return {
    interactionId,
    token: interactionToken,
    applicationId,
    at: interactionAt,
    channelId: typeof channelId === "string" ? channelId : (to.thread ?? to.conversationId),
  };
}

type Via = "original" | "followup" | "channel";
interface Attempt {
  via: Via;
  at: number;
  messageId?: string;
}

export class InteractionReplies {
  readonly #client: DiscordClient;
  readonly #store: Store;
  readonly #log: Logger;
  readonly #account: string;
  readonly #botId: string;
  /** Deferred responses in flight: a quick answer waits for its acknowledgement before editing it. */
  readonly #deferrals = new Map<string, Promise<void>>();

  constructor(o: { client: DiscordClient; store: Store; log: Logger; account: string; botId: string }) {
    this.#client = o.client;
    this.#store = o.store;
    this.#log = o.log;
    this.#account = o.account;
    this.#botId = o.botId;
  }

  /** Acknowledges the command with a deferred response; call as soon as it arrives (Discord allows 3 s). */
  defer(interactionId: string, token: string): void {
    const p = this.#client.interactionCallback(interactionId, token, 5).then(
      () => undefined,
      (err: Error) => {
        // 40060: already acknowledged (a resumed session replayed the event); 10062: too late. Either way the
        // answer still comes, through the token or in the channel.
        this.#log.warn(
          { account: this.#account, interaction: interactionId, err: err.message },
          "discord: acknowledging a slash command failed",
        );
      },
    );
    this.#deferrals.set(interactionId, p);
    void p.finally(() => this.#deferrals.delete(interactionId));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#deferrals.values());
  }

  /**
   * Delivers one part of the answer and returns the message id. `key` is the outbox item's idempotency key;
   * `toChannel` sends the part as a normal channel message (the fallback).
   */
  async send(
    c: SlashReplyContext,
    body: MessageBody,
    files: RawFile[] | undefined,
    key: string | undefined,
    toChannel: () => Promise<DcMessage>,
  ): Promise<string> {
    const earlier = key ? await this.#read(key) : undefined;
    if (earlier?.messageId) return earlier.messageId;
    await this.#deferrals.get(c.interactionId);
    const fresh = Date.now() < c.at + INTERACTION_TOKEN_TTL_MS - TOKEN_MARGIN_MS;
    if (earlier && key && !(earlier.via === "original" && fresh)) {
      const found = await this.#findSent(c.channelId, earlier.at, body.content);
      if (found) {
        this.#log.info(
          { account: this.#account, interaction: c.interactionId, via: earlier.via },
          "discord: an earlier attempt had already delivered this part; not sending it again",
        );
        await this.#write(key, { ...earlier, messageId: found });
        return found;
      }
    }
    let via: Via = !fresh
      ? "channel"
      : (await this.#claimOriginal(c.interactionId, key))
        ? "original"
        : "followup";
    for (;;) {
      const at = Date.now();
      if (key) await this.#write(key, { via, at });
      try {
        const sent =
          via === "original"
            ? await this.#client.editOriginal(c.applicationId, c.token, body, files)
            : via === "followup"
              ? await this.#client.createFollowUp(c.applicationId, c.token, body, files)
              : await toChannel();
        if (key) await this.#write(key, { via, at, messageId: sent.id });
        return sent.id;
      } catch (err) {
        if (via === "channel" || !isDeadInteraction(err)) throw err;
        // Another replica may have stored the command and answered it before this one's acknowledgement landed:
        // Discord does not know the token for that moment. Try again shortly rather than give up on it.
        if (Date.now() - c.at < ACK_GRACE_MS && (err as DiscordRefusedError).code === 10015) {
          throw new Error(`Discord does not know the interaction yet: ${(err as Error).message}`);
        }
        this.#log.info(
          { account: this.#account, interaction: c.interactionId, err: (err as Error).message },
          "discord: the interaction token is no longer valid; answering in the channel",
        );
        via = "channel";
      }
    }
  }

  /** The first part of an answer replaces the original response; the key that took it keeps it on retries. */
  async #claimOriginal(interactionId: string, key: string | undefined): Promise<boolean> {
    if (await this.#store.kvSetIfAbsent(ORIGINAL_NS, interactionId, key ?? "-", RECORD_TTL_MS)) return true;
    return key !== undefined && (await this.#store.kvGet(ORIGINAL_NS, interactionId)) === key;
  }

  /** A message of the bot's with this content created since `since`, when the channel can be read. */
  async #findSent(
    channelId: string,
    since: number,
    content: string | undefined,
  ): Promise<string | undefined> {
    if (!content) return undefined;
    try {
      const recent = await this.#client.messagesAfter(channelId, snowflakeAt(since - LOOKBACK_MS));
      return recent.find((m) => m.author?.id === this.#botId && m.content === content)?.id;
    } catch (err) {
      this.#log.warn(
        { account: this.#account, channel: channelId, err: (err as Error).message },
        "discord: cannot check whether an interrupted answer went out; sending it (it may show twice)",
      );
      return undefined;
    }
  }

  async #read(key: string): Promise<Attempt | undefined> {
    const raw = await this.#store.kvGet(ATTEMPTS_NS, key);
    if (!raw) return undefined;
    try {
      return JSON.parse(raw) as Attempt;
    } catch {
      return undefined;
    }
  }

  #write(key: string, attempt: Attempt): Promise<void> {
    return this.#store.kvSet(ATTEMPTS_NS, key, JSON.stringify(attempt), RECORD_TTL_MS);
  }
}
