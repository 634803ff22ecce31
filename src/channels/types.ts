// What every channel implements, and what the gateway hands it. A channel folder reads top to bottom:
// ingress (verify + normalize), client (the platform API), format (text, chunks, buttons), index (wiring).
import type { Logger } from "pino";
import type { z } from "zod";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import type { Attachment, DeliveryAddress, InboundEvent } from "../core/event.ts";
import type { RouteKind } from "../http/boundary.ts";
import type { Authorize, Handler } from "../http/router.ts";
import type { Store } from "../store/types.ts";
import type { ChannelSettingsSpec } from "./sdk/accounts.ts";

export interface ChannelCapabilities {
  /** Can edit a sent message (streaming by edits): the adapter has edit(). */
  edit: boolean;
  /** Shows a reply live as it is written (the web chat): the adapter has preview() and gets every delta. */
  livePreview: boolean;
  /** Answers a button press in place (a toast: Telegram, Discord, Slack): the adapter has answerAction(). */
  answersPresses: boolean;
  threads: boolean;
  /** Sends pictures and files natively (OutboundMessage.media). */
  media: boolean;
  /**
   * Fetches the bytes of inbound attachments: the adapter has fetchAttachment(). Optional so channels written
   * before it (API version 1 plugins) still build; absent means false.
   */
  downloads?: boolean;
  buttons: boolean;
  /** Longest text one message may carry; longer replies are split on safe boundaries. */
  maxTextLength: number;
  /** Minimum gap between edits of one message, so streaming never exceeds the platform's limits. */
  minEditIntervalMs: number;
}

export interface Button {
  label: string;
  /** Opaque value that comes back as InboundEvent.action.value (keep it short: Telegram allows 64 bytes). */
  value: string;
  style?: "primary" | "danger";
}

export interface MediaItem {
  /** Base64 of the bytes (outbox payloads are JSON). */
  dataBase64: string;
  mime: string;
  filename: string;
  caption?: string;
}

/** Bytes of an inbound attachment, as the platform served them. */
export interface FetchedMedia {
  bytes: Buffer;
  /** The type the platform's file API declared (Content-Type); the worker sniffs the bytes as well. */
  mime?: string;
  name?: string;
}

export interface FetchLimits {
  /** Largest download accepted; a larger file throws MediaTooLargeError (src/core/too-large.ts) before or while reading. */
  maxBytes: number;
  signal: AbortSignal;
}

export interface OutboundMessage {
  text: string;
  buttons?: Button[];
  media?: MediaItem[];
  /** "error" replies may be styled differently by channels that can. */
  kind?: "reply" | "error" | "notice";
}

export interface SendOptions {
  /** The outbox item's idempotency key: the same on every retry of one delivery (LINE's X-Line-Retry-Key). */
  idempotencyKey?: string;
  /** The inbound event this delivery answers, when it is a reply. */
  eventId?: string;
}

export interface SentMessage {
  /** Platform id of the (last) message sent, used to edit it later. */
  messageId?: string;
}

/** Thrown by adapters when the platform says "slow down": the outbox retries this lane after retryAfterMs. */
export class RateLimitedError extends Error {
  readonly retryAfterMs: number;
  constructor(retryAfterMs: number, message = `rate limited, retry after ${retryAfterMs} ms`) {
    super(message);
    this.name = "RateLimitedError";
    this.retryAfterMs = retryAfterMs;
  }
}

/** Thrown when retrying cannot help (bad token, chat not found): the outbox dead-letters the delivery. */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentDeliveryError";
  }
}

export interface ChannelHealth {
  lastInboundAt?: number;
  lastOutboundAt?: number;
  lastError?: { at: number; message: string };
  status: "starting" | "running" | "stopped" | "error";
}

/** Same signature as the HTTP router's handlers: (req, res, { body, params, url }). */
export type RouteHandler = Handler;

export interface WebhookRoute {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  /** Prefix match instead of exact (the path ends with a wildcard segment). */
  prefix?: boolean;
  /** Largest body accepted before answering 413. */
  bodyLimitBytes?: number;
  /** What the route is (src/http/boundary.ts); default "webhook" (platform calls: no Host or Origin rule). */
  kind?: RouteKind;
  /** Decides from the headers, before the body is read, whether the caller may go on. */
  authorize?: Authorize;
  handler: RouteHandler;
  /** What the route does, for generated API descriptions (scripts/openapi.ts). */
  doc?: RouteDoc;
}

/** A route's description: a summary, and example bodies that docs/openapi.json shows. */
export interface RouteDoc {
  summary: string;
  query?: Record<string, string>;
  request?: unknown;
  response?: { status: number; example?: unknown; type?: string };
}

/**
 * "duplicate": already in the inbox; "stale": older than the dedup window, ignored. Acknowledge all three the
 * same way (the platform must stop retrying); only "accepted" will be answered.
 */
export type IngestResult = "accepted" | "duplicate" | "stale";

/** What the gateway gives an adapter. */
export interface ChannelContext {
  readonly log: Logger;
  readonly store: Store;
  readonly config: Config;
  readonly env: Env;
  /** This process's owner id for store leases (singleton work: a poller per bot, a gateway shard). */
  readonly owner: string;
  /**
   * Whether a button value is one the gateway's buttons carry (a registered action prefix): a press of a button
   * the gateway did not make (a template's or another app's) can then be read as the text it showed instead.
   */
  isActionValue(value: string): boolean;
  /** The chat commands the gateway answers, for platforms that show a command menu (Telegram setMyCommands). */
  commandList(): { name: string; description: string }[];
  /**
   * Cancels the agent call in progress for a session on this replica (the web chat's stop button); whether one
   * was. The user's message stays in history; the partial answer is not kept. Optional: test contexts omit it.
   */
  cancelReply?(sessionKey: string): boolean;
  /** Commits the event to the inbox; resolves once it is durable. */
  ingest(event: InboundEvent): Promise<IngestResult>;
  /**
   * Waits up to `timeoutMs` for the final reply to `eventId` and claims it for an in-band answer (WeChat passive
   * reply, Kakao SkillResponse). Resolves undefined when the reply was not ready; it is then delivered normally.
   */
  awaitReply(eventId: string, timeoutMs: number): Promise<OutboundMessage | undefined>;
  /** A URL under the public base URL where the media can be fetched for a limited time; undefined when none is configured. */
  publishMedia(item: MediaItem, address: DeliveryAddress): Promise<string | undefined>;
  /**
   * Queues a message through the outbox (durable, paced, retried; split at the channel's limit): e.g. the rest of
   * an in-band reply that did not fit (WeChat passive reply). Enqueueing an idempotency key twice sends once.
   * Not added to the session history: the reply it belongs to is already there.
   */
  deliver(
    address: DeliveryAddress,
    message: OutboundMessage,
    idempotencyKey: string,
  ): Promise<{ id: number; inserted: boolean }>;
}

export interface ChannelAdapter {
  readonly channel: string;
  readonly account: string;
  readonly capabilities: ChannelCapabilities;
  /**
   * The bot's own name where commands can name a bot (`/run@MyComfyBot` on Telegram): a command naming
   * another bot is then not answered. Undefined until known, or on platforms without that syntax.
   */
  readonly botName?: string;
  /** Routes served on the main listener (and on the seed's own port when one is configured). */
  routes?(): WebhookRoute[];
  /** Own listener for connector-seed compatibility: `OPENCLAW_CONNECTOR_<P>_BIND` / `_PORT`. */
  listen?: { host: string; port: number };
  /** Receive loops (long polling, gateway sockets). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
  send(to: DeliveryAddress, message: OutboundMessage, options?: SendOptions): Promise<SentMessage>;
  edit?(to: DeliveryAddress, messageId: string, message: OutboundMessage): Promise<void>;
  /**
   * Acknowledge a button press in place (Telegram callback_query, Discord interaction), with
   * `capabilities.answersPresses`. Channels without it get the press's note as a message instead.
   */
  answerAction?(event: InboundEvent, text?: string): Promise<void>;
  /**
   * The bytes of one of this channel's inbound attachments (capabilities.downloads), fetched from the platform's
   * own file API with the bot's credentials (src/channels/sdk/download.ts), within `limits.maxBytes`. Called by
   * the inbox worker, never while a webhook waits for its acknowledgement.
   */
  fetchAttachment?(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia>;
  /** Every delta of a reply being written, with `capabilities.livePreview` (the web chat's live view). */
  preview?(address: DeliveryAddress, eventId: string, textSoFar: string): void;
  /** Whether the sender/conversation is on this channel's allowlist. */
  isTrusted(event: InboundEvent): boolean;
  health(): ChannelHealth;
}

/** One finding of `clawgate doctor`: what was checked, how it went, and what to do about it. */
export interface DoctorCheck {
  /** Stable id for scripts reading `--json`: "telegram.default.token", "node.version". */
  id: string;
  title: string;
  /** "fail" blocks the channel (or the gateway) and makes doctor exit 1; "warn" works but needs a look. */
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  /** What to do, for anything that is not ok. */
  fix?: string;
}

/** What a channel's doctor() gets: the whole configuration (public URL, server) and its account. */
export interface DoctorContext {
  readonly account: string;
  readonly config: Config;
  readonly env: Env;
  /** A store for clients that keep state in one (WeChat's access token); doctor hands a throwaway one. */
  readonly store: Store;
  readonly log: Logger;
}

/** The channel API version this build of clawgate implements; the plugin loader refuses modules built for another. */
export const CHANNEL_API_VERSION = 1;

/**
 * A channel: its settings (validated by the config schema before create() sees them), whether it takes several
 * accounts, its seed env mapping, and how one account's adapter is built.
 */
export interface ChannelModule<S extends z.ZodType = z.ZodType> extends ChannelSettingsSpec<S> {
  /** CHANNEL_API_VERSION of the SDK the module was written against. */
  readonly apiVersion: number;
  /**
   * Maps the connector seed's env vars onto `channels.<name>` (through src/channels/shared/seed-env.ts);
   * undefined when none are set.
   */
  fromEnv?(env: Env): Record<string, unknown> | undefined;
  /** One enabled account's adapter, from settings the module's schema already accepted. No I/O before start(). */
  create(settings: z.output<S>, ctx: ChannelContext, account: string): ChannelAdapter;
  /**
   * `clawgate doctor`: checks one account against its platform (credentials, webhook registration, public URL)
   * without starting it. Optional, so API version 1 modules written before it still load.
   */
  doctor?(settings: z.output<S>, ctx: DoctorContext): Promise<DoctorCheck[]>;
}

/** Declares a module with its settings type inferred from its schema. */
export function defineChannel<S extends z.ZodType>(module: ChannelModule<S>): ChannelModule<S> {
  return module;
}

/** What an outbox item's payload holds (the gateway writes it, a channel may read queued parts back). */
export interface OutboxPayload {
  address: DeliveryAddress;
  message: OutboundMessage;
  /** Replace this already-sent message (the streamed preview) instead of sending a new one. */
  editMessageId?: string;
}

/** Whether the adapter declared a live view (checked at start to have preview()). */
export function hasLivePreview(
  a: ChannelAdapter,
): a is ChannelAdapter & Required<Pick<ChannelAdapter, "preview">> {
  return a.capabilities.livePreview && typeof a.preview === "function";
}
