// WhatsApp Cloud API: the GET verify handshake and signed webhooks in; Graph API messages out, images uploaded
// (or linked), buttons as interactive replies. Setup: docs/channels/whatsapp.md.
import type { ServerResponse } from "node:http";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import { sendError } from "../../http/respond.ts";
import { isImage } from "../../media/content-type.ts";
import { fitImage, ImageFitError } from "../../media/image.ts";
import { fetchPolicyFromConfig } from "../../security/url-guard.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { HealthTracker } from "../sdk/health.ts";
import { jsonWebhookRoute } from "../sdk/webhook.ts";
import { decodeButtonValue, encodeButtonValue } from "../shared/button-values.ts";
import { sendPartsOnce } from "../shared/sent-parts.ts";
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
  type WebhookRoute,
} from "../types.ts";
import { WhatsappClient } from "./client.ts";
import { type WhatsappSettings, whatsappFromEnv, whatsappSettingsSchema } from "./config.ts";
import { whatsappDoctor } from "./doctor.ts";
import {
  buttonsBody,
  fitsInteractive,
  imageBody,
  textBody,
  WHATSAPP_TEXT_MAX,
  whatsappText,
} from "./format.ts";
import { normalizeWhatsappPayload, verifyHandshake, verifyHubSignature } from "./ingress.ts";
import { fetchWhatsappMedia } from "./media.ts";

/** Cloud API images: JPEG or PNG, at most 5 MB. */
const IMAGE_LIMITS = { maxBytes: 5 * 1024 * 1024, formats: ["jpeg", "png"] as ("jpeg" | "png")[] };
const BUTTON_ID_MAX = 200;

export class WhatsappAdapter implements ChannelAdapter {
  readonly channel = "whatsapp";
  readonly account = "default";
  readonly capabilities = capabilities({
    media: true,
    downloads: true,
    buttons: true,
    maxTextLength: WHATSAPP_TEXT_MAX,
  });
  readonly listen?: { host: string; port: number };
  readonly #s: WhatsappSettings;
  readonly #ctx: ChannelContext;
  readonly #client: WhatsappClient;
  readonly #health = new HealthTracker();
  readonly #allowed: Allowlist;

  constructor(settings: WhatsappSettings, ctx: ChannelContext) {
    this.#s = settings;
    this.#ctx = ctx;
    this.listen = settings.listen;
    this.#client = new WhatsappClient(
      settings.apiBase,
      settings.apiVersion,
      settings.phoneNumberId,
      settings.accessToken,
      settings.throughputMps,
    );
    this.#allowed = new Allowlist(settings.allowedUsers);
    this.#health.status("running");
  }

  routes(): WebhookRoute[] {
    return [
      {
        method: "GET",
        path: this.#s.path,
        handler: (_req, res, c) => this.#handshake(res, c.url),
      },
      jsonWebhookRoute(
        {
          path: this.#s.path,
          bodyLimitBytes: this.#s.bodyLimitBytes,
          verify: (req, body) => verifyHubSignature(this.#s.appSecret, req.headers, body),
          normalize: (payload) => this.#normalize(payload),
          // Meta's sample answers 200 EVENT_RECEIVED; any 200 stops the retries.
          ack: (res) => res.writeHead(200, { "content-type": "text/plain" }).end("EVENT_RECEIVED"),
        },
        this.#ctx,
        this.#health,
      ),
    ];
  }

  async stop() {
    this.#health.status("stopped");
  }

  #handshake(res: ServerResponse, url: URL): void {
    const r = verifyHandshake(this.#s.verifyToken, url.searchParams);
    if (!r.ok) sendError(res, 403, r.reason);
    else res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end(r.challenge);
  }

  async #normalize(payload: Record<string, unknown>): Promise<InboundEvent[]> {
    const { events, skipped } = normalizeWhatsappPayload(payload, {
      account: this.account,
      phoneNumberId: this.#s.phoneNumberId,
    });
    if (skipped.length) {
      // Signed by Meta, so not an attack: a shape we cannot read. The rest of the batch is still taken in.
      this.#ctx.log.warn(
        { channel: "whatsapp", skipped: skipped.slice(0, 20), count: skipped.length },
        "skipped parts of a WhatsApp webhook that could not be read",
      );
    }
    for (const event of events) if (event.action) await this.#readButton(event);
    return events;
  }

  /**
   * A press of one of our buttons stays an action (a long value is looked up; an expired one is answered "no
   * longer valid" by the gateway). A button we did not make (a template's quick reply, another tool's message)
   * is what it showed: its title becomes the user's message, commands included; without a title it is an
   * action nobody handles, answered like any stale button.
   */
  async #readButton(event: InboundEvent): Promise<void> {
    const carried = event.action!.value;
    const decoded = await decodeButtonValue(this.#ctx.store, carried);
    const ours = decoded !== carried || (this.#ctx.isActionValue?.(carried) ?? true);
    if (ours) {
      event.action!.value = decoded ?? carried;
      event.text = "";
    } else if (event.text.trim()) {
      event.action = undefined;
    }
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    const wa = to.conversationId;
    const text = whatsappText(message.text);
    return this.#health.track(async () => {
      let messageId: string | undefined;
      const buttons = await Promise.all(
        (message.buttons ?? []).map(async (b) => ({
          ...b,
          value: await encodeButtonValue(this.#ctx.store, b.value, BUTTON_ID_MAX),
        })),
      );
      const steps: (() => Promise<string | undefined>)[] = [];
      if (buttons.length && fitsInteractive(text)) {
        steps.push(() => this.#client.sendMessage(wa, buttonsBody(wa, text, buttons)));
      } else {
        if (text) steps.push(() => this.#client.sendMessage(wa, textBody(wa, text)));
        if (buttons.length) {
          steps.push(() => this.#client.sendMessage(wa, buttonsBody(wa, "Choose an option:", buttons)));
        }
      }
      for (const m of message.media ?? []) steps.push(() => this.#sendMedia(wa, m, to));
      // Each step is its own Graph call: when a later one fails (a rate limit on the image), the outbox retries
      // the whole item, and the retry resumes after the messages that went out instead of sending them again.
      await sendPartsOnce(this.#ctx.store, options.idempotencyKey, steps, async (step) => {
        messageId = (await step()) ?? messageId;
      });
      return { messageId };
    });
  }

  /** A file that cannot be sent is replaced by a note saying so: never dropped without a word. */
  async #sendMedia(wa: string, m: MediaItem, to: DeliveryAddress): Promise<string | undefined> {
    let note: string;
    try {
      if (isImage(m.mime)) {
        const img = await fitImage(Buffer.from(m.dataBase64, "base64"), m.mime, IMAGE_LIMITS);
        if (this.#s.mediaMode === "upload") {
          const id = await this.#client.uploadMedia(img.bytes, img.mime, m.filename, wa);
          return this.#client.sendMessage(wa, imageBody(wa, { id }, m.caption));
        }
        const link = await this.#ctx.publishMedia?.(
          { dataBase64: img.bytes.toString("base64"), mime: img.mime, filename: m.filename },
          to,
        );
        if (link?.startsWith("https://"))
          return this.#client.sendMessage(wa, imageBody(wa, { link }, m.caption));
        note = `(an image could not be sent: set OPENCLAW_CONNECTOR_PUBLIC_BASE_URL to an https URL)`;
      } else {
        const link = await this.#ctx.publishMedia?.(m, to);
        note = link
          ? `${m.caption ?? m.filename}: ${link}`
          : `(${m.filename} could not be sent: no public base URL)`;
      }
    } catch (err) {
      if (!(err instanceof MediaTooLargeError || err instanceof ImageFitError)) throw err;
      note = `(${m.filename} could not be sent: ${err.message})`;
    }
    return this.#client.sendMessage(wa, textBody(wa, note));
  }

  fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    const s = this.#s;
    return fetchWhatsappMedia(
      {
        apiBase: s.apiBase,
        apiVersion: s.apiVersion,
        phoneNumberId: s.phoneNumberId,
        token: s.accessToken,
        policy: fetchPolicyFromConfig(this.#ctx.config),
      },
      attachment,
      limits,
    );
  }

  isTrusted(event: InboundEvent): boolean {
    return this.#allowed.hasSender(event.sender.id);
  }

  health() {
    return this.#health.snapshot();
  }
}

export const whatsappModule = defineChannel({
  name: "whatsapp",
  apiVersion: CHANNEL_API_VERSION,
  settings: whatsappSettingsSchema,
  multiAccount: false,
  fromEnv: whatsappFromEnv,
  create: (settings, ctx) => new WhatsappAdapter(settings, ctx),
  doctor: (settings, ctx) => whatsappDoctor(settings, ctx),
});
