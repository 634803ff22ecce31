// WeChat Official Account: webhook ingress (plaintext or AES safe mode), passive replies within 4.5 s, and the
// customer-service message API for later replies. Buttons become numbered choices; images go out as WeChat
// images through the customer-service API (never in a passive reply, which stays text), other files as links.
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { chunkText } from "../../core/text-chunk.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import { isImage } from "../../media/content-type.ts";
import { fitImage, ImageFitError } from "../../media/image.ts";
import { Pacer } from "../../runtime/pacer.ts";
import { fetchPolicyFromConfig } from "../../security/url-guard.ts";
import { accountPath } from "../sdk/accounts.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { HealthTracker } from "../sdk/health.ts";
import { pacedCall } from "../shared/paced-call.ts";
import { seedEnvSection } from "../shared/seed-env.ts";
import { sendPartsOnce } from "../shared/sent-parts.ts";
import { apiBaseSchema, idListSchema, listenSchema, pathSchema } from "../shared/settings.ts";
import { renderText } from "../shared/text-render.ts";
import {
  CHANNEL_API_VERSION,
  type ChannelAdapter,
  type ChannelContext,
  defineChannel,
  type FetchedMedia,
  type FetchLimits,
  type MediaItem,
  type OutboundMessage,
  PermanentDeliveryError,
  type SendOptions,
  type SentMessage,
} from "../types.ts";
import { WECHAT_API_BASE, WechatClient } from "./client.ts";
import { aesKeyFrom } from "./crypto.ts";
import { wechatDoctor } from "./doctor.ts";
import { PASSIVE_REPLY_MS, wechatRoutes } from "./ingress.ts";
import { fetchWechatMedia } from "./media.ts";

export const WECHAT_DEFAULT_PATH = "/wechat/webhook";
export const WECHAT_DEFAULT_PORT = 8097;
/** Customer-service text is limited in bytes; 600 characters stays inside it even for CJK text. */
const MAX_TEXT = 600;
/**
 * Temporary image media: JPEG or PNG (GIF too, but a re-encode never makes one). WeChat's pages say 10 MB in one
 * place and 2 MB in another; 2 MB is accepted under both.
 */
const IMAGE_LIMITS = { maxBytes: 2 * 1024 * 1024, formats: ["jpeg", "png"] as ("jpeg" | "png")[] };

type Part = { text: string } | { image: MediaItem };

const settingsSchema = z
  .looseObject({
    token: z.string().min(1, "token is required (OPENCLAW_CONNECTOR_WECHAT_TOKEN)"),
    appId: z.string().min(1).optional(),
    appSecret: z.string().min(1).optional(),
    /** Checked here, so a malformed key stops start-up with its key path instead of failing at the first message. */
    encodingAesKey: z
      .string()
      .regex(
        /^[A-Za-z0-9+/]{43}$/,
        "must be the 43-character EncodingAESKey from the WeChat console (letters, digits, + and /; it decodes to 32 bytes)",
      )
      .refine((k) => Buffer.from(`${k}=`, "base64").length === 32, "must decode to a 32-byte AES key")
      .optional(),
    allowedUsers: idListSchema,
    path: pathSchema,
    listen: listenSchema,
    apiBase: apiBaseSchema(WECHAT_API_BASE),
    timestampWindowSec: z.coerce.number().int().min(10).max(3600).default(300),
    /** How long the webhook waits for the answer before replying "success" (WeChat gives up after 5 s). */
    passiveReplyMs: z.coerce.number().int().min(0).max(4500).default(PASSIVE_REPLY_MS),
  })
  .refine((s) => !s.encodingAesKey || s.appId, {
    message: "safe mode (encodingAesKey) also needs appId, which every encrypted message is checked against",
    path: ["appId"],
  });
type WechatSettings = z.output<typeof settingsSchema>;

export class WechatAdapter implements ChannelAdapter {
  readonly channel = "wechat";
  readonly account: string;
  readonly capabilities = capabilities({
    edit: false,
    threads: false,
    media: true,
    downloads: true,
    buttons: false,
    maxTextLength: MAX_TEXT,
    minEditIntervalMs: 0,
  });
  readonly listen: { host: string; port: number } | undefined;
  readonly #s: WechatSettings;
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #client: WechatClient | undefined;
  readonly #pacer = new Pacer();
  readonly #path: string;
  readonly #allowed: Allowlist;

  constructor(account: string, settings: WechatSettings, ctx: ChannelContext) {
    this.account = account;
    this.#s = settings;
    this.#ctx = ctx;
    this.listen = settings.listen;
    this.#path = accountPath(WECHAT_DEFAULT_PATH, account, settings.path);
    this.#allowed = new Allowlist(settings.allowedUsers);
    if (settings.appId && settings.appSecret) {
      this.#client = new WechatClient({
        appId: settings.appId,
        appSecret: settings.appSecret,
        apiBase: settings.apiBase,
        store: ctx.store,
        log: ctx.log,
      });
    }
    this.#health.status("running");
  }

  routes() {
    return wechatRoutes({
      account: this.account,
      path: this.#path,
      token: this.#s.token,
      appId: this.#s.appId,
      aesKey: this.#s.encodingAesKey ? aesKeyFrom(this.#s.encodingAesKey) : undefined,
      windowSec: this.#s.timestampWindowSec,
      passiveReplyMs: this.#s.passiveReplyMs,
      ctx: this.#ctx,
      health: this.#health,
      renderPassive: (event, reply) => this.#renderPassive(event, reply),
    });
  }

  /**
   * The passive reply carries one message of at most MAX_TEXT characters; the rest is queued in the outbox
   * (durable, paced, retried) for the customer-service API. The key is derived from the event, so handling
   * the same event again never queues the rest twice.
   */
  async #renderPassive(event: InboundEvent, reply: OutboundMessage): Promise<string> {
    const to = { channel: this.channel, account: this.account, conversationId: event.conversation.id };
    // Without AppID/AppSecret there is no customer-service API to send images with: they become links.
    const { images, rest: others } = this.#client
      ? splitImages(reply.media)
      : { images: [], rest: reply.media ?? [] };
    // Merged in-band replies can end in blank lines (a pictures-only part has no text): not worth a line.
    const text = (await renderText(this.#ctx, this.#ctx.store, to, { ...reply, media: others })).trimEnd();
    const [first = "", ...rest] = chunkText(text, MAX_TEXT);
    // Continue exactly where the first part stopped, so the outbox splits the rest as chunkText did.
    const remainder = rest.length
      ? text.startsWith(first)
        ? text.slice(first.length).trimStart()
        : rest.join("\n\n")
      : "";
    if (remainder || images.length) {
      // A passive reply carries text only: the rest of the text and the images follow through the outbox.
      try {
        if (!this.#ctx.deliver) throw new Error("this gateway offers channels no outbox (ctx.deliver)");
        await this.#ctx.deliver(
          to,
          { text: remainder, media: images, kind: reply.kind },
          `reply:${event.id}:rest`,
        );
      } catch (err) {
        // The first part still goes out in-band; say plainly what the user is missing.
        this.#health.error((err as Error).message);
        this.#ctx.log.error(
          { channel: "wechat", event: event.id, err: (err as Error).message },
          "queueing the rest of a reply failed; only its first part was sent",
        );
      }
    }
    return first;
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    const { images, rest } = splitImages(message.media);
    const text = await renderText(this.#ctx, this.#ctx.store, to, { ...message, media: rest });
    // Numbered choices or media links can push a chunk past the limit: split again, each part sent once.
    // Each image and its caption are parts of their own, so a retry resumes after what already went out.
    const parts: Part[] = [
      ...(text ? chunkText(text, MAX_TEXT).map((t) => ({ text: t })) : []),
      ...images.flatMap((image): Part[] =>
        image.caption ? [{ image }, { text: image.caption.slice(0, MAX_TEXT) }] : [{ image }],
      ),
    ];
    await sendPartsOnce(this.#ctx.store, options.idempotencyKey, parts, (part) =>
      "text" in part
        ? this.#sendPaced(to, (c) => c.sendText(to.conversationId, part.text))
        : this.#sendImage(to, part.image),
    );
    return {};
  }

  /** An image that cannot be sent becomes a note saying so: never dropped without a word. */
  async #sendImage(to: DeliveryAddress, item: MediaItem) {
    let fitted: { bytes: Buffer; mime: string };
    try {
      fitted = await fitImage(Buffer.from(item.dataBase64, "base64"), item.mime, IMAGE_LIMITS);
    } catch (err) {
      if (!(err instanceof ImageFitError || err instanceof MediaTooLargeError)) throw err;
      const note = `(${item.filename} could not be sent: ${err.message})`;
      return this.#sendPaced(to, (c) => c.sendText(to.conversationId, note));
    }
    const filename = item.filename.replace(/\.[^.]*$/, "") + (fitted.mime === "image/png" ? ".png" : ".jpg");
    await this.#sendPaced(to, async (c) => {
      const mediaId = await c.uploadMedia("image", fitted.bytes, fitted.mime, filename);
      await c.sendImage(to.conversationId, mediaId);
    });
  }

  async #sendPaced(
    to: Pick<DeliveryAddress, "conversationId">,
    call: (client: WechatClient) => Promise<void>,
  ) {
    if (!this.#client) {
      throw new PermanentDeliveryError(
        "WeChat: this reply missed the 4.5 s passive-reply window and appId/appSecret are not set, so it cannot be sent (set OPENCLAW_CONNECTOR_WECHAT_APP_ID and _APP_SECRET)",
      );
    }
    const client = this.#client;
    const account = `wechat:${this.#s.appId}`;
    const buckets = [
      { key: account, ratePerSec: 20, burst: 20 },
      { key: `${account}:${to.conversationId}`, ratePerSec: 1, burst: 3 },
    ];
    await this.#health.track(() => pacedCall(this.#pacer, buckets, account, () => call(client)));
  }

  fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    return fetchWechatMedia(
      { apiBase: this.#s.apiBase, policy: fetchPolicyFromConfig(this.#ctx.config), client: this.#client },
      attachment,
      limits,
    );
  }

  /** Soft allowlist: anyone may write; only listed OpenIDs are trusted (others' /run needs approval). */
  isTrusted(event: InboundEvent): boolean {
    return this.#allowed.hasSender(event.sender.id);
  }

  health() {
    return this.#health.snapshot();
  }
}

function splitImages(media: MediaItem[] | undefined): { images: MediaItem[]; rest: MediaItem[] } {
  const all = media ?? [];
  return { images: all.filter((m) => isImage(m.mime)), rest: all.filter((m) => !isImage(m.mime)) };
}

/** The connector seed's OPENCLAW_CONNECTOR_WECHAT_* variables; the token turns the channel on. */
export function wechatFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "WECHAT", {
    requiredAny: ["TOKEN"],
    strings: {
      TOKEN: "token",
      APP_ID: "appId",
      APP_SECRET: "appSecret",
      ENCODING_AES_KEY: "encodingAesKey",
    },
    lists: { ALLOWED_USERS: "allowedUsers" },
    defaultPort: WECHAT_DEFAULT_PORT,
  });
}

export const wechatModule = defineChannel({
  name: "wechat",
  apiVersion: CHANNEL_API_VERSION,
  settings: settingsSchema,
  multiAccount: true,
  fromEnv: wechatFromEnv,
  create: (settings, ctx, account) => new WechatAdapter(account, settings, ctx),
  doctor: (settings, ctx) =>
    wechatDoctor(settings, ctx, accountPath(WECHAT_DEFAULT_PATH, ctx.account, settings.path)),
});
