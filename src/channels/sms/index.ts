// Twilio SMS/MMS: signed webhook ingress (checked against the public URL Twilio calls), replies through the
// Messages API paced per sending number, long text split at 1600 characters, images sent as MMS by signed,
// expiring media URLs. Buttons become numbered choices. Inbound MMS media is fetched from its MediaUrl with
// the account's Basic auth (accounts may require it for media), following Twilio's redirect to its CDN without.
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import { ConfigError } from "../../config/errors.ts";
import type { Config } from "../../config/schema.ts";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { chunkText } from "../../core/text-chunk.ts";
import { isImage } from "../../media/content-type.ts";
import { fitImage } from "../../media/image.ts";
import { Pacer } from "../../runtime/pacer.ts";
import { fetchPolicyFromConfig } from "../../security/url-guard.ts";
import { accountPath } from "../sdk/accounts.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { AttachmentUnavailableError, downloadFromPlatform, hostOf } from "../sdk/download.ts";
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
  type SendOptions,
  type SentMessage,
} from "../types.ts";
import { TWILIO_API_BASE, TwilioClient } from "./client.ts";
import { smsDoctor } from "./doctor.ts";
import { smsRoutes } from "./ingress.ts";

export const SMS_DEFAULT_PATH = "/sms/webhook";
export const SMS_DEFAULT_PORT = 8094;
/** Twilio accepts a Body of up to 1600 characters and MMS of up to 5 MB in total. */
const MAX_TEXT = 1600;
const MAX_MMS_BYTES = 5 * 1024 * 1024;
const MAX_MEDIA_URLS = 10;

const settingsSchema = z
  .looseObject({
    accountSid: z
      .string()
      .regex(/^AC[0-9a-fA-F]{32}$/, "must be the Account SID from the Twilio console (AC…)"),
    authToken: z.string().min(1, "authToken is required (OPENCLAW_CONNECTOR_SMS_AUTH_TOKEN)"),
    from: z.string().min(1).optional(),
    messagingServiceSid: z
      .string()
      .regex(/^MG[0-9a-fA-F]{32}$/, "must be a Messaging Service SID (MG…)")
      .optional(),
    publicUrl: z
      .url({ protocol: /^https?$/, error: "must be the full http(s) URL Twilio calls (its webhook URL)" })
      .optional(),
    allowedUsers: idListSchema,
    path: pathSchema,
    listen: listenSchema,
    apiBase: apiBaseSchema(TWILIO_API_BASE),
    /**
     * Message segments per second the sender may send. Twilio queues what goes faster, for hours, so a reply
     * arrives late rather than refused. Default 1 for a `from` number (a US long code:
     * twilio.com/docs/api/errors/30001), 10 for a Messaging Service; set the throughput Twilio gives your sender
     * (toll-free, short code, 10DLC).
     */
    mps: z.number().positive().max(10_000).optional(),
  })
  .refine((s) => s.from || s.messagingServiceSid, {
    message: "set from (OPENCLAW_CONNECTOR_SMS_FROM) or messagingServiceSid (_MESSAGING_SERVICE_SID)",
    path: ["from"],
  });
export type SmsSettings = z.output<typeof settingsSchema>;

/**
 * Paced at the sender's MPS so Twilio's queue stays short: anything sent faster only waits there. Three may go
 * together, the parts of one answer.
 */
function twilioPace(s: SmsSettings) {
  return { ratePerSec: s.mps ?? (s.messagingServiceSid ? 10 : 1), burst: 3 };
}

/** The URL Twilio signs: the account's publicUrl, else server.publicBaseUrl with the account's path. */
function smsPublicUrl(settings: SmsSettings, account: string, config: Config): string | undefined {
  const base = config.server.publicBaseUrl?.replace(/\/+$/, "");
  const path = accountPath(SMS_DEFAULT_PATH, account, settings.path);
  return settings.publicUrl ?? (base ? `${base}${path}` : undefined);
}

const noPublicUrl = (path: string) =>
  `required, the exact webhook URL configured in Twilio (OPENCLAW_CONNECTOR_SMS_PUBLIC_URL), e.g. https://example.com${path}; Twilio signs that URL (or set server.publicBaseUrl)`;

const normalizeNumber = (n: string) => n.replace(/[\s().-]/g, "");

export class SmsAdapter implements ChannelAdapter {
  readonly channel = "sms";
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
  readonly #s: SmsSettings;
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #pacer = new Pacer();
  readonly #client: TwilioClient;
  readonly #path: string;
  readonly #publicUrl: string;
  readonly #allowed: Allowlist;

  constructor(account: string, settings: SmsSettings, ctx: ChannelContext) {
    this.account = account;
    this.#s = settings;
    this.#ctx = ctx;
    this.listen = settings.listen;
    this.#path = accountPath(SMS_DEFAULT_PATH, account, settings.path);
    const publicUrl = smsPublicUrl(settings, account, ctx.config);
    if (!publicUrl) {
      const key = account === "default" ? "channels.sms" : `channels.sms.accounts.${account}`;
      throw new ConfigError("channels.sms", [`${key}.publicUrl: ${noPublicUrl(this.#path)} (found nothing)`]);
    }
    this.#publicUrl = publicUrl;
    this.#client = new TwilioClient(settings.apiBase, settings.accountSid, settings.authToken);
    this.#allowed = new Allowlist(settings.allowedUsers, [], normalizeNumber);
    this.#health.status("running");
  }

  routes() {
    return smsRoutes({
      account: this.account,
      path: this.#path,
      accountSid: this.#s.accountSid,
      authToken: this.#s.authToken,
      publicUrl: this.#publicUrl,
      ctx: this.#ctx,
      health: this.#health,
    });
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    const mediaUrls: string[] = [];
    const unsent: MediaItem[] = [];
    for (const item of message.media ?? []) {
      const url = mediaUrls.length < MAX_MEDIA_URLS ? await this.#publish(item, to) : undefined;
      if (url) mediaUrls.push(url);
      else unsent.push(item);
    }
    const text = await renderText(this.#ctx, this.#ctx.store, to, { ...message, media: unsent });
    const sender = { from: this.#s.from, messagingServiceSid: this.#s.messagingServiceSid };
    const key = `sms:${this.#s.messagingServiceSid ?? this.#s.from}`;
    // Numbered choices or media links can push a chunk past the limit: split again, media on the first part,
    // each part sent once even when the outbox retries after a later one failed.
    const parts = chunkText(text, MAX_TEXT);
    const buckets = [{ key, ...twilioPace(this.#s) }];
    const sid = await sendPartsOnce(this.#ctx.store, options.idempotencyKey, parts, (part, i) =>
      this.#health.track(() =>
        pacedCall(this.#pacer, buckets, key, () =>
          this.#client.sendMessage(sender, to.conversationId, part, i === 0 ? mediaUrls : []),
        ),
      ),
    );
    return { messageId: sid };
  }

  /** MMS media goes by URL: images over Twilio's 5 MB are scaled down first, then published as signed links. */
  async #publish(item: MediaItem, to: DeliveryAddress): Promise<string | undefined> {
    if (!this.#ctx.publishMedia) return undefined;
    let out = item;
    const bytes = Buffer.from(item.dataBase64, "base64");
    if (bytes.length > MAX_MMS_BYTES && isImage(item.mime)) {
      const fitted = await fitImage(bytes, item.mime, { maxBytes: MAX_MMS_BYTES });
      out = { ...item, dataBase64: fitted.bytes.toString("base64"), mime: fitted.mime };
    }
    return this.#ctx.publishMedia(out, to).catch((err: Error) => {
      this.#ctx.log.warn(
        { channel: "sms", err: err.message },
        "publishing MMS media failed; sending a note instead",
      );
      return undefined;
    });
  }

  /**
   * An MMS media file: its MediaUrl is under api.twilio.com (or the configured apiBase), which answers with a
   * redirect to the CDN. Basic auth goes to Twilio's API host only; the redirect is followed without it.
   */
  async fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    if (!attachment.url) throw new AttachmentUnavailableError("the MMS media has no MediaUrl");
    return downloadFromPlatform({
      url: attachment.url,
      headers: { authorization: this.#client.authorization },
      ownHosts: [hostOf(TWILIO_API_BASE), hostOf(this.#s.apiBase)],
      policy: fetchPolicyFromConfig(this.#ctx.config),
      limits,
      fromPayload: true,
      what: "the MMS media",
    });
  }

  /** Soft allowlist by phone number (E.164): others may use public commands; their /run needs approval. */
  isTrusted(event: InboundEvent): boolean {
    return this.#allowed.hasSender(event.sender.id);
  }

  health() {
    return this.#health.snapshot();
  }
}

/** OPENCLAW_CONNECTOR_SMS_*: the account SID turns the channel on. */
export function smsFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "SMS", {
    requiredAny: ["ACCOUNT_SID"],
    strings: {
      ACCOUNT_SID: "accountSid",
      AUTH_TOKEN: "authToken",
      FROM: "from",
      MESSAGING_SERVICE_SID: "messagingServiceSid",
      PUBLIC_URL: "publicUrl",
    },
    lists: { ALLOWED_USERS: "allowedUsers" },
    defaultPort: SMS_DEFAULT_PORT,
  });
}

export const smsModule = defineChannel({
  name: "sms",
  apiVersion: CHANNEL_API_VERSION,
  settings: settingsSchema,
  multiAccount: true,
  checkWithConfig: (settings, account, config) =>
    smsPublicUrl(settings, account, config)
      ? []
      : [
          {
            path: ["publicUrl"],
            message: noPublicUrl(accountPath(SMS_DEFAULT_PATH, account, settings.path)),
          },
        ],
  fromEnv: smsFromEnv,
  create: (settings, ctx, account) => new SmsAdapter(account, settings, ctx),
  doctor: (settings, ctx) =>
    smsDoctor(settings, ctx, accountPath(SMS_DEFAULT_PATH, ctx.account, settings.path)),
});
