// WeChat Official Account: webhook ingress (plaintext or AES safe mode), passive replies within 4.5 s, and the
// customer-service message API for later replies. Text-first: buttons become numbered choices, images links.
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import type { DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { chunkText } from "../../core/text-chunk.ts";
import { Pacer } from "../../runtime/pacer.ts";
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
  type OutboundMessage,
  PermanentDeliveryError,
  type SendOptions,
  type SentMessage,
} from "../types.ts";
import { WECHAT_API_BASE, WechatClient } from "./client.ts";
import { aesKeyFrom } from "./crypto.ts";
import { PASSIVE_REPLY_MS, wechatRoutes } from "./ingress.ts";

export const WECHAT_DEFAULT_PATH = "/wechat/webhook";
export const WECHAT_DEFAULT_PORT = 8097;
/** Customer-service text is limited in bytes; 600 characters stays inside it even for CJK text. */
const MAX_TEXT = 600;

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
    media: false,
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
    const text = await renderText(this.#ctx, this.#ctx.store, to, reply);
    const [first = "", ...rest] = chunkText(text, MAX_TEXT);
    if (rest.length) {
      // Continue exactly where the first part stopped, so the outbox splits the rest as chunkText did.
      const remainder = text.startsWith(first) ? text.slice(first.length).trimStart() : rest.join("\n\n");
      try {
        if (!this.#ctx.deliver) throw new Error("this gateway offers channels no outbox (ctx.deliver)");
        await this.#ctx.deliver(to, { text: remainder, kind: reply.kind }, `reply:${event.id}:rest`);
      } catch (err) {
        // The first part still goes out in-band; say plainly what the user is missing.
        this.#health.error((err as Error).message);
        this.#ctx.log.error(
          { channel: "wechat", event: event.id, err: (err as Error).message },
          "queueing the rest of a long reply failed; only its first part was sent",
        );
      }
    }
    return first;
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    const text = await renderText(this.#ctx, this.#ctx.store, to, message);
    // Numbered choices or media links can push a chunk past the limit: split again, each part sent once.
    await sendPartsOnce(this.#ctx.store, options.idempotencyKey, chunkText(text, MAX_TEXT), (part) =>
      this.#sendPaced(to, part),
    );
    return {};
  }

  async #sendPaced(to: Pick<DeliveryAddress, "conversationId">, text: string) {
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
    await this.#health.track(() =>
      pacedCall(this.#pacer, buckets, account, () => client.sendText(to.conversationId, text)),
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
});
