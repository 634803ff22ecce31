// LINE (Messaging API): signed webhooks in; replies use the event's reply token first (single use, short-lived)
// and fall back to push. Images go out as signed https media links with a preview. Setup: docs/channels/line.md.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { sendError } from "../../http/respond.ts";
import { isImage } from "../../media/content-type.ts";
import { fitImage, ImageFitError, previewImage } from "../../media/image.ts";
import { MediaTooLargeError } from "../../media/service.ts";
import { HealthTracker } from "../health.ts";
import { decodeButtonValue, encodeButtonValue } from "../shared/button-values.ts";
import { parseJsonObject } from "../shared/json-body.ts";
import { sendPartsOnce } from "../shared/sent-parts.ts";
import type {
  ChannelAdapter,
  ChannelContext,
  ChannelModule,
  MediaItem,
  OutboundMessage,
  SendOptions,
  SentMessage,
  WebhookRoute,
} from "../types.ts";
import { LineClient, retryKeyFor } from "./client.ts";
import { type LineSettings, lineFromEnv, lineSettings } from "./config.ts";
import {
  batches,
  imageMessage,
  LINE_POSTBACK_DATA_MAX,
  LINE_TEXT_MAX,
  type LineMessage,
  textMessage,
  withQuickReplies,
} from "./format.ts";
import { normalizeLineEvent, verifyLineRequest } from "./ingress.ts";

/** LINE accepts a reply token for about a minute; past this age we push instead of trying it. */
const REPLY_TOKEN_MAX_AGE_MS = 50_000;
const ORIGINAL_MAX_BYTES = 10 * 1024 * 1024;
const NO_PUBLIC_URL =
  "(an image could not be sent: LINE fetches images from an https URL; set OPENCLAW_CONNECTOR_PUBLIC_BASE_URL)";

export class LineAdapter implements ChannelAdapter {
  readonly channel = "line";
  readonly account = "default";
  readonly capabilities = {
    edit: false,
    threads: false,
    media: true,
    buttons: true,
    maxTextLength: LINE_TEXT_MAX,
    minEditIntervalMs: 0,
  };
  readonly listen?: { host: string; port: number };
  readonly #s: LineSettings;
  readonly #ctx: ChannelContext;
  readonly #client: LineClient;
  readonly #health = new HealthTracker();
  readonly #allowedUsers: Set<string>;
  readonly #allowedGroups: Set<string>;

  constructor(settings: LineSettings, ctx: ChannelContext) {
    this.#s = settings;
    this.#ctx = ctx;
    this.listen = settings.listen;
    this.#client = new LineClient(settings.apiBase, settings.channelAccessToken);
    this.#allowedUsers = new Set(settings.allowedUsers);
    this.#allowedGroups = new Set(settings.allowedGroups);
    this.#health.status("running");
  }

  routes(): WebhookRoute[] {
    return [
      {
        method: "POST",
        path: this.#s.path,
        bodyLimitBytes: this.#s.bodyLimitBytes,
        handler: (req, res, c) => this.#handle(req, res, c.body),
      },
    ];
  }

  async stop() {
    this.#health.status("stopped");
  }

  async #handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const verdict = verifyLineRequest(this.#s.channelSecret, req.headers, body);
    if (!verdict.ok) return sendError(res, verdict.status, verdict.reason);
    const payload = parseJsonObject(body);
    if (!payload || !Array.isArray(payload.events))
      return sendError(res, 400, "body must be {events: [...]}");
    const events: InboundEvent[] = [];
    for (const raw of payload.events) {
      if (!raw || typeof raw !== "object") continue;
      const event = normalizeLineEvent(raw as Record<string, unknown>, {
        account: this.account,
        requireMention: this.#s.requireMention,
      });
      if (!event) continue;
      if (event.action) {
        event.action.value =
          (await decodeButtonValue(this.#ctx.store, event.action.value)) ?? event.action.value;
      }
      this.#health.inbound();
      events.push(event);
    }
    // Every event is durable before LINE hears 200; a redelivery (same webhookEventId) is a duplicate. Ingesting
    // them together lets one group commit cover the whole webhook; the calls are made in order, so lanes keep it.
    await Promise.all(events.map((e) => this.#ctx.ingest(e)));
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    // Each media item yields at least one message (a note when it cannot be sent): only this sends nothing.
    if (!message.text && !message.media?.length) return {};
    return this.#health.track(async () => {
      const messages: LineMessage[] = [];
      if (message.text) messages.push(textMessage(message.text));
      for (const m of message.media ?? []) messages.push(...(await this.#mediaMessages(m, to)));
      const buttons = await Promise.all(
        (message.buttons ?? []).map(async (b) => ({
          label: b.label,
          data: await encodeButtonValue(this.#ctx.store, b.value, LINE_POSTBACK_DATA_MAX),
        })),
      );
      messages.push(withQuickReplies(messages.pop()!, buttons));

      // More than five messages take several calls. When a later call fails, the outbox retries the whole item:
      // resume after the calls that went out, or the first batch (sent with the reply token, which carries no
      // retry key) would be pushed a second time.
      const messageId = await sendPartsOnce(
        this.#ctx.store,
        options.idempotencyKey,
        batches(messages),
        async (part, i) => {
          const retryKey = options.idempotencyKey ? retryKeyFor(`${options.idempotencyKey}:${i}`) : undefined;
          return (
            (i === 0 ? await this.#tryReply(to, part) : undefined) ??
            (await this.#client.push(to.conversationId, part, retryKey))
          );
        },
      );
      return { messageId };
    });
  }

  /**
   * Uses the event's reply token when it is fresh and nobody used it yet (claimed in the store, so a retry or a
   * second chunk never spends it twice). Undefined when the caller should push instead.
   */
  async #tryReply(to: DeliveryAddress, messages: LineMessage[]): Promise<string | undefined> {
    const token = to.replyContext?.replyToken;
    const at = Number(to.replyContext?.replyTokenAt ?? 0);
    if (typeof token !== "string" || Date.now() - at > REPLY_TOKEN_MAX_AGE_MS) return undefined;
    if (!(await this.#ctx.store.kvSetIfAbsent("line-reply-token", token, "used", 120_000))) return undefined;
    try {
      return (await this.#client.reply(token, messages, to.conversationId)) ?? "";
    } catch (err) {
      this.#ctx.log.debug({ err: (err as Error).message }, "LINE reply token refused; pushing instead");
      return undefined;
    }
  }

  /** A file that cannot be sent is replaced by a note saying so: never dropped without a word. */
  async #mediaMessages(m: MediaItem, to: DeliveryAddress): Promise<LineMessage[]> {
    try {
      return await this.#mediaMessagesOrThrow(m, to);
    } catch (err) {
      if (!(err instanceof MediaTooLargeError || err instanceof ImageFitError)) throw err;
      return [textMessage(`(${m.filename} could not be sent: ${err.message})`)];
    }
  }

  /** An image becomes an https original (≤10 MB JPEG/PNG) plus a small preview; other files a link. */
  async #mediaMessagesOrThrow(m: MediaItem, to: DeliveryAddress): Promise<LineMessage[]> {
    const publish = this.#ctx.publishMedia;
    if (!publish) return [textMessage(NO_PUBLIC_URL)];
    if (!isImage(m.mime)) {
      const url = await publish(m, to);
      return [textMessage(url ? `${m.caption ?? m.filename}: ${url}` : NO_PUBLIC_URL)];
    }
    const original = await fitImage(Buffer.from(m.dataBase64, "base64"), m.mime, {
      maxBytes: ORIGINAL_MAX_BYTES,
      formats: ["jpeg", "png"],
    });
    const preview = await previewImage(original.bytes);
    const originalUrl = await publish(
      { dataBase64: original.bytes.toString("base64"), mime: original.mime, filename: m.filename },
      to,
    );
    const previewUrl = await publish(
      { dataBase64: preview.bytes.toString("base64"), mime: preview.mime, filename: `preview-${m.filename}` },
      to,
    );
    if (!originalUrl?.startsWith("https://") || !previewUrl?.startsWith("https://")) {
      return [textMessage(NO_PUBLIC_URL)];
    }
    const out = [imageMessage(originalUrl, previewUrl)];
    if (m.caption) out.push(textMessage(m.caption));
    return out;
  }

  isTrusted(event: InboundEvent): boolean {
    return this.#allowedUsers.has(event.sender.id) || this.#allowedGroups.has(event.conversation.id);
  }

  health() {
    return this.#health.snapshot();
  }
}

export const lineModule: ChannelModule = {
  name: "line",
  fromEnv: lineFromEnv,
  create: (section, ctx) => [new LineAdapter(lineSettings(section), ctx)],
};
