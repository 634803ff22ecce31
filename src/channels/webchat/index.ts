// The built-in web chat: the page at /, a JSON API for threads and messages (with files), and live updates over
// SSE. Delivery is a live notification: the reply itself is already in the store, written with the inbox commit.
import { z } from "zod";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
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
    this.#health.status("running");
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
        // Only verify() is used: token lifetimes are the pairing service's business.
        devices: new DeviceRegistry(this.#ctx.store, { tokenTtlMs: 0, overlapMs: 0 }),
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
