// LINE (Messaging API): signed webhooks in; replies use the event's reply token first (single use, short-lived)
// and fall back to push. Images go out as signed https media links with a preview. Setup: docs/channels/line.md.

import { randomUUID } from "node:crypto";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { MediaTooLargeError } from "../../core/too-large.ts";
import { isImage } from "../../media/content-type.ts";
import { fitImage, ImageFitError, previewImage } from "../../media/image.ts";
import { fetchPolicyFromConfig } from "../../security/url-guard.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { HealthTracker } from "../sdk/health.ts";
import { jsonWebhookRoute, refuse, type WebhookOutcome } from "../sdk/webhook.ts";
import { decodeButtonValue, encodeButtonValue } from "../shared/button-values.ts";
import { toPlainText } from "../shared/markdown/index.ts";
import { PlatformClientError } from "../shared/platform-fetch.ts";
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
import { LineClient, retryKeyFor } from "./client.ts";
import { type LineSettings, lineFromEnv, lineSettingsSchema } from "./config.ts";
import { fetchLineContent } from "./content.ts";
import { lineDoctor } from "./doctor.ts";
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

/** LINE accepts a reply token for about a minute; past this age a first attempt pushes instead of trying it. */
const REPLY_TOKEN_MAX_AGE_MS = 50_000;
/**
 * Below this age a token LINE refuses cannot have expired, so it was used: by the earlier, in-doubt attempt of
 * the same delivery. Well under LINE's minute, since tokens have been seen to expire after about 30 s.
 */
export const IN_DOUBT_FRESH_MS = 25_000;
/** Where the reply token's state is kept: as long as the outbox may retry a delivery. */
const TOKEN_NS = "line-reply-token";
const TOKEN_STATE_TTL_MS = 24 * 60 * 60 * 1000;
const ORIGINAL_MAX_BYTES = 10 * 1024 * 1024;
const NO_PUBLIC_URL =
  "(an image could not be sent: LINE fetches images from an https URL; set OPENCLAW_CONNECTOR_PUBLIC_BASE_URL)";
const noFileLink = (name: string) =>
  `(${name} could not be sent: LINE bots cannot send files, and without OPENCLAW_CONNECTOR_PUBLIC_BASE_URL there is no link to it)`;

export class LineAdapter implements ChannelAdapter {
  readonly channel = "line";
  readonly account = "default";
  readonly capabilities = capabilities({
    media: true,
    downloads: true,
    buttons: true,
    maxTextLength: LINE_TEXT_MAX,
  });
  readonly listen?: { host: string; port: number };
  readonly #s: LineSettings;
  readonly #ctx: ChannelContext;
  readonly #client: LineClient;
  readonly #health = new HealthTracker();
  readonly #allowed: Allowlist;

  constructor(settings: LineSettings, ctx: ChannelContext) {
    this.#s = settings;
    this.#ctx = ctx;
    this.listen = settings.listen;
    this.#client = new LineClient(settings.apiBase, settings.channelAccessToken);
    this.#allowed = new Allowlist(settings.allowedUsers, settings.allowedGroups);
    this.#health.status("running");
  }

  routes(): WebhookRoute[] {
    const route = jsonWebhookRoute(
      {
        path: this.#s.path,
        bodyLimitBytes: this.#s.bodyLimitBytes,
        verify: (req, body) => verifyLineRequest(this.#s.channelSecret, req.headers, body),
        normalize: (payload) => this.#normalize(payload),
        ack: (res) => res.writeHead(200, { "content-type": "application/json" }).end("{}"),
      },
      this.#ctx,
      this.#health,
    );
    return [route];
  }

  async stop() {
    this.#health.status("stopped");
  }

  /** One webhook's events, in order: each with its webhookEventId (a redelivery is a duplicate). */
  async #normalize(payload: Record<string, unknown>): Promise<InboundEvent[] | WebhookOutcome> {
    if (!Array.isArray(payload.events)) return refuse("body must be {events: [...]}");
    const events: InboundEvent[] = [];
    for (const [i, raw] of payload.events.entries()) {
      // A webhook may carry thousands of events: let other requests in between every few hundred.
      if (i > 0 && i % 500 === 0) await new Promise((r) => setImmediate(r));
      const read = normalizeLineEvent(raw, { account: this.account, requireMention: this.#s.requireMention });
      if (read.kind === "unidentified") {
        this.#ctx.log.info(
          read.summary,
          "LINE event without webhookEventId dropped (nothing to deduplicate on)",
        );
        continue;
      }
      if (read.kind === "unreadable") {
        this.#ctx.log.warn(
          { ...read.summary, problems: read.problems },
          "LINE event skipped: its shape is not what LINE documents",
        );
        continue;
      }
      if (read.kind !== "event") continue;
      const event = read.event;
      if (event.action) {
        event.action.value =
          (await decodeButtonValue(this.#ctx.store, event.action.value)) ?? event.action.value;
      }
      events.push(event);
    }
    return events;
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    // Each media item yields at least one message (a note when it cannot be sent): only this sends nothing.
    if (!message.text && !message.media?.length) return {};
    return this.#health.track(async () => {
      const messages: LineMessage[] = [];
      if (message.text) messages.push(textMessage(toPlainText(message.text)));
      for (const m of message.media ?? []) messages.push(...(await this.#mediaMessages(m, to)));
      const buttons = await Promise.all(
        (message.buttons ?? []).map(async (b) => ({
          label: b.label,
          data: await encodeButtonValue(this.#ctx.store, b.value, LINE_POSTBACK_DATA_MAX),
        })),
      );
      messages.push(withQuickReplies(messages.pop()!, buttons));

      // More than five messages take several calls. When a later call fails, the outbox retries the whole item:
      // resume after the calls that went out, or the first batch would be sent a second time.
      const key = options.idempotencyKey;
      const messageId = await sendPartsOnce(this.#ctx.store, key, batches(messages), (part, i) =>
        i === 0 ? this.#sendFirst(to, part, key) : this.#push(to, part, key, i),
      );
      return { messageId };
    });
  }

  /** Every push carries a retry key derived from the outbox key and the part: a repeat is refused by LINE (409). */
  #push(to: DeliveryAddress, part: LineMessage[], key: string | undefined, index: number) {
    return this.#client.push(to.conversationId, part, key ? retryKeyFor(`${key}:${index}`) : undefined);
  }

  /**
   * The first call of a delivery answers with the event's reply token when it can, exactly once even across a
   * crash (docs/channels/line.md, "Exactly once"). The token's state is recorded in the store before each
   * step: "replying" before the reply call, "sent" after it, "push" before falling back to a push. A retry that
   * finds "replying" does not know whether LINE took the reply: it uses the same token again. LINE accepts it
   * (the first call never arrived) or refuses it; a refusal of a token that is still fresh means it was used,
   * so the reply went out. Once the token may have expired, a refusal proves nothing, and we push.
   */
  async #sendFirst(
    to: DeliveryAddress,
    part: LineMessage[],
    key: string | undefined,
  ): Promise<string | undefined> {
    const token = to.replyContext?.replyToken;
    const at = Number(to.replyContext?.replyTokenAt ?? 0);
    if (typeof token !== "string" || !token) return this.#push(to, part, key, 0);
    const age = Date.now() - at;
    const store = this.#ctx.store;
    const owner = key ?? `unkeyed:${randomUUID()}`;
    // Claim first: on a first attempt nothing is recorded yet, so one write decides it; only a retry, or a
    // second delivery of the same event, reads what an earlier one recorded.
    if (age <= REPLY_TOKEN_MAX_AGE_MS) {
      const claimed = await store.kvSetIfAbsent(
        TOKEN_NS,
        token,
        tokenState(owner, "replying"),
        TOKEN_STATE_TTL_MS,
      );
      if (claimed) return this.#reply(token, at, owner, to, part, key, false);
    }
    const state = parseTokenState(await store.kvGet(TOKEN_NS, token));
    // Another delivery answering the same event took the token: it is spent for us.
    if (!state || state.owner !== owner) return this.#push(to, part, key, 0);
    if (state.step === "sent") return state.messageId;
    if (state.step === "push") return this.#push(to, part, key, 0);
    return this.#reply(token, at, owner, to, part, key, true);
  }

  async #reply(
    token: string,
    tokenAt: number,
    owner: string,
    to: DeliveryAddress,
    part: LineMessage[],
    key: string | undefined,
    inDoubt: boolean,
  ): Promise<string | undefined> {
    const store = this.#ctx.store;
    try {
      const id = await this.#client.reply(token, part, to.conversationId);
      await store.kvSet(TOKEN_NS, token, tokenState(owner, "sent", id), TOKEN_STATE_TTL_MS);
      return id;
    } catch (err) {
      // 429, 5xx and network errors: the outbox retries, and that retry is in doubt (the request may have
      // arrived). Any other refusal than the token's is permanent, as for every call.
      if (!isInvalidReplyToken(err)) throw err;
      // Measured from LINE's own event time, after the refusal: the conservative end.
      const age = Date.now() - tokenAt;
      if (inDoubt && age < IN_DOUBT_FRESH_MS) {
        this.#ctx.log.info(
          { age },
          "LINE refused a fresh reply token an earlier attempt used: that reply was sent",
        );
        await store.kvSet(TOKEN_NS, token, tokenState(owner, "sent"), TOKEN_STATE_TTL_MS);
        return undefined;
      }
      if (inDoubt) {
        this.#ctx.log.warn(
          { age },
          "LINE reply in doubt and its token too old to tell: pushing it (the user may see it twice)",
        );
      } else this.#ctx.log.debug({ age }, "LINE reply token refused (expired); pushing instead");
      await store.kvSet(TOKEN_NS, token, tokenState(owner, "push"), TOKEN_STATE_TTL_MS);
      return this.#push(to, part, key, 0);
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
    // LINE has no file message for bots: a file goes as a link to the gateway's copy, or a note saying why not.
    if (!isImage(m.mime)) {
      const url = await publish?.(m, to);
      return [textMessage(url ? `${m.caption ?? m.filename}: ${url}` : noFileLink(m.filename))];
    }
    if (!publish) return [textMessage(NO_PUBLIC_URL)];
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

  /** What a user sent: from the content API by message id, or an external URL through the URL guard. */
  fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    const source = {
      apiBase: this.#s.apiBase,
      dataApiBase: this.#s.dataApiBase,
      token: this.#s.channelAccessToken,
      policy: fetchPolicyFromConfig(this.#ctx.config),
    };
    return fetchLineContent(source, attachment, limits);
  }

  isTrusted(event: InboundEvent): boolean {
    return this.#allowed.has(event);
  }

  health() {
    return this.#health.snapshot();
  }
}

type TokenStep = "replying" | "sent" | "push";

function tokenState(owner: string, step: TokenStep, messageId?: string): string {
  return JSON.stringify({ owner, step, messageId });
}

function parseTokenState(
  raw: string | undefined,
): { owner: string; step: TokenStep; messageId?: string } | undefined {
  if (!raw) return undefined;
  try {
    const v = JSON.parse(raw);
    if (v && typeof v.owner === "string" && ["replying", "sent", "push"].includes(v.step)) return v;
  } catch {
    // a value written by an older version ("used"): the token is spent
  }
  return { owner: "", step: "push" };
}

/** LINE's answer to a reply token that was used or has expired: 400 {"message": "Invalid reply token"}. */
function isInvalidReplyToken(err: unknown): boolean {
  if (!(err instanceof PlatformClientError) || err.status !== 400) return false;
  const message = (err.body as { message?: unknown } | undefined)?.message;
  return typeof message === "string" && /invalid reply token/i.test(message);
}

export const lineModule = defineChannel({
  name: "line",
  apiVersion: CHANNEL_API_VERSION,
  settings: lineSettingsSchema,
  multiAccount: false,
  fromEnv: lineFromEnv,
  create: (settings, ctx) => new LineAdapter(settings, ctx),
  doctor: (settings, ctx) => lineDoctor(settings, ctx),
});
