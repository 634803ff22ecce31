// The built-in web chat: the page at /, a JSON API for threads and messages (with files), and live updates over
// SSE. Delivery is a live notification: the reply itself is already in the store, written with the inbox commit.
import { z } from "zod";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { chatTokenLive } from "../../pairing/chat-token.ts";
import { DeviceRegistry } from "../../pairing/devices.ts";
import { onDeviceRevoked } from "../../pairing/revocations.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { HealthTracker } from "../sdk/health.ts";
import {
  CHANNEL_API_VERSION,
  type ChannelAdapter,
  type ChannelContext,
  defineChannel,
  type FetchedMedia,
  type FetchLimits,
  type OutboundMessage,
  type SendOptions,
  type SentMessage,
} from "../types.ts";
import { SharedThreads } from "./access.ts";
import { AnswerMedia } from "./answer-media.ts";
import { sessionKey, WEBCHAT_ACCOUNT, webchatRoutes } from "./api.ts";
import { LiveHub } from "./live-hub.ts";
import { ReplyRows } from "./reply-rows.ts";
import { WebchatUploads } from "./uploads.ts";
import { WsSessions } from "./ws.ts";

/** How often device sessions are checked against the store (revokes on other replicas, expiry). */
const RECHECK_MS = 30_000;

export class WebchatAdapter implements ChannelAdapter {
  readonly channel = "webchat";
  readonly account = WEBCHAT_ACCOUNT;
  readonly capabilities = capabilities({
    edit: false,
    livePreview: true,
    answersPresses: true,
    threads: false,
    media: true,
    downloads: true,
    buttons: true,
    maxTextLength: 100_000,
    minEditIntervalMs: 0,
  });
  readonly hub = new LiveHub();
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #rows: ReplyRows;
  readonly #uploads: WebchatUploads;
  readonly #answers: AnswerMedia;
  readonly #sockets = new WsSessions();
  readonly #unrevoke: () => void;
  readonly #devices: DeviceRegistry;
  readonly #recheck: NodeJS.Timeout;
  #seq = 0;

  constructor(ctx: ChannelContext) {
    this.#ctx = ctx;
    this.#rows = new ReplyRows(ctx.store);
    this.#uploads = new WebchatUploads(ctx.store, ctx.config.media.inbound);
    this.#answers = new AnswerMedia(ctx.store, ctx.config.media.inbound.keepDays);
    // A revoked device's open streams and sockets end at once, not at its next request.
    this.#unrevoke = onDeviceRevoked((deviceId, tokenId) => {
      this.hub.endOwner(deviceId, tokenId);
      this.#sockets.endOwner(deviceId, tokenId);
    });
    // Only verify() and getDevice() are used: token lifetimes are the pairing service's business.
    this.#devices = new DeviceRegistry(ctx.store, { tokenTtlMs: 0, overlapMs: 0 });
    // A revoke on another replica, or a token that expired, ends sessions here at the next check.
    this.#recheck = setInterval(() => void this.recheckDevices().catch(() => {}), RECHECK_MS).unref();
    this.#health.status("running");
  }

  /** Ends the open streams and sockets of device tokens that are no longer valid (revoked, expired, no chat). */
  async recheckDevices() {
    const owners = new Map([...this.hub.owners(), ...this.#sockets.owners()].map((o) => [o.tokenId, o]));
    for (const o of owners.values()) {
      if (chatTokenLive(await this.#devices.getDevice(o.deviceId), o.tokenId)) continue;
      this.hub.endOwner(o.deviceId, o.tokenId);
      this.#sockets.endOwner(o.deviceId, o.tokenId);
    }
  }

  routes() {
    return webchatRoutes(
      {
        ...this.#ctx,
        ingest: (e) => {
          this.#health.inbound();
          return this.#ctx.ingest(e);
        },
      },
      this.hub,
      this.#ctx.config.webchat.token,
      { uploads: this.#uploads, answers: this.#answers },
      {
        devices: this.#devices,
        shared: new SharedThreads(this.#ctx.store),
        sockets: this.#sockets,
      },
    );
  }

  /** A file sent with a message: from the media store, and only for the thread it was sent in. */
  fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    return this.#uploads.fetch(attachment.platformId, sessionKey, limits);
  }

  async stop() {
    this.#unrevoke();
    clearInterval(this.#recheck);
    this.#sockets.closeAll();
    this.hub.close();
    this.#health.status("stopped");
  }

  preview(address: DeliveryAddress, eventId: string, textSoFar: string) {
    this.hub.preview(address.conversationId, eventId, textSoFar);
  }

  async send(
    address: DeliveryAddress,
    message: OutboundMessage,
    options?: SendOptions,
  ): Promise<SentMessage> {
    const id = options?.idempotencyKey;
    const key = `webchat:${address.account}:${address.conversationId}`;
    // Kept before the event goes out, so the history the page fetches on it already has the pictures.
    if (options?.eventId && message.media?.length) {
      await this.#answers
        .keep(key, options.eventId, id ?? `${Date.now()}`, message.media)
        .catch((err: Error) =>
          this.#ctx.log.warn(
            { err: err.message },
            "could not keep an answer's pictures for the web chat history",
          ),
        );
    }
    const messageId = await this.#rows.find(key, message.text, options ?? {}).catch(() => undefined);
    this.hub.publish(address.conversationId, {
      type: "reply",
      id,
      eventId: options?.eventId,
      messageId,
      text: message.text,
      kind: message.kind,
      buttons: message.buttons,
      media: message.media?.map((m) => ({
        mime: m.mime,
        filename: m.filename,
        caption: m.caption,
        dataBase64: m.dataBase64,
      })),
    });
    this.#health.outbound();
    return { messageId: String(++this.#seq) };
  }

  async answerAction(event: InboundEvent, text?: string) {
    if (text) this.hub.publish(event.conversation.id, { type: "toast", text });
  }

  /** The page is served to loopback or bearer-token holders only, so everyone who reaches it is trusted. */
  isTrusted(): boolean {
    return true;
  }

  health() {
    return this.#health.snapshot();
  }
}

export const webchatModule = defineChannel({
  name: "webchat",
  apiVersion: CHANNEL_API_VERSION,
  /** The web chat's own settings live under `webchat` (enabled, token); `channels.webchat` has none. */
  settings: z.looseObject({}),
  multiAccount: false,
  create: (_settings, ctx) => new WebchatAdapter(ctx),
});
