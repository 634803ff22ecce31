// The Telegram channel: one adapter per bot account. Receives by long polling (default) or webhook, answers with
// sendMessage and streams by editing that message, paced per chat, per group and per bot.
import { createHash, randomUUID } from "node:crypto";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { cutText } from "../../core/text-cut.ts";
import { type BucketSpec, Pacer } from "../../runtime/pacer.ts";
import { fetchPolicyFromConfig } from "../../security/url-guard.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { HealthTracker } from "../sdk/health.ts";
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
  RateLimitedError,
  type SendOptions,
  type SentMessage,
} from "../types.ts";
import {
  isStatus,
  TELEGRAM_PACE,
  TelegramClient,
  type SendOptions as TgSendOptions,
  telegramDescription,
} from "./client.ts";
import {
  type TelegramAccountConfig,
  telegramAccountConfig,
  telegramFromEnv,
  telegramSettings,
} from "./config.ts";
import { telegramDoctor } from "./doctor.ts";
import { fetchTelegramFile } from "./files.ts";
import {
  inlineKeyboard,
  markdownToPlainText,
  markdownToTelegramHtml,
  TELEGRAM_MAX_CALLBACK_ANSWER,
  TELEGRAM_MAX_CALLBACK_BYTES,
  TELEGRAM_MAX_TEXT,
} from "./format.ts";
import { type BotIdentity, normalizeUpdate } from "./normalize.ts";
import { sendSteps } from "./outbound.ts";
import { TelegramPoller } from "./polling.ts";
import type { TgMessage } from "./types.ts";
import { telegramWebhookRoute } from "./webhook.ts";

const COMMANDS_NS = "telegram:commands";
/** Updates that could not be read, kept for an operator to look at (see #recordUnreadable). */
export const UNREADABLE_NS = "telegram:unreadable";
const UNREADABLE_KEEP_MS = 30 * 86_400_000;
/** Longest a send waits for the pacer in place; longer waits go back to the outbox as a rate limit. */
const MAX_INLINE_WAIT_MS = 5000;

export class TelegramAdapter implements ChannelAdapter {
  readonly channel = "telegram";
  readonly account: string;
  readonly capabilities = capabilities({
    edit: true,
    answersPresses: true,
    threads: true,
    media: true,
    downloads: true,
    buttons: true,
    maxTextLength: TELEGRAM_MAX_TEXT,
    minEditIntervalMs: 1000,
  });
  readonly client: TelegramClient;
  readonly #cfg: TelegramAccountConfig;
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #pacer = new Pacer();
  readonly #allowed: Allowlist;
  #me: BotIdentity | undefined;

  /** The bot's @username: commands addressed to another bot (`/run@otherbot`) are not ours. */
  get botName(): string | undefined {
    return this.#me?.username || undefined;
  }
  #poller: TelegramPoller | undefined;

  constructor(cfg: TelegramAccountConfig, ctx: ChannelContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.account = cfg.id;
    this.client = new TelegramClient({ token: cfg.botToken, apiBase: cfg.apiBase });
    this.#allowed = new Allowlist(cfg.allowedUsers, cfg.allowedChats);
  }

  get webhookPath(): string {
    return this.#cfg.webhookPath ?? `/telegram/${this.account}/webhook`;
  }

  routes() {
    if (this.#cfg.mode !== "webhook") return [];
    return [
      telegramWebhookRoute({
        path: this.webhookPath,
        secret: this.#cfg.webhookSecret!,
        handle: (update) => this.#commit([update]),
        onError: (err) => {
          this.#health.error(err.message);
          this.#ctx.log.error(
            { account: this.account, err: err.message },
            "telegram: storing an update failed",
          );
        },
      }),
    ];
  }

  async start() {
    const log = this.#ctx.log;
    try {
      await this.#identity();
    } catch (err) {
      if (isStatus(err, 401) || isStatus(err, 404)) {
        throw new Error(
          `Telegram rejected the bot token of account "${this.account}" (${telegramDescription(err)}). ` +
            "Copy the token again from @BotFather into OPENCLAW_CONNECTOR_TELEGRAM_TOKEN or channels.telegram…botToken.",
        );
      }
      // Telegram unreachable right now: keep starting; the poll loop (or the first webhook) asks again.
      log.warn({ account: this.account, err: (err as Error).message }, "telegram: getMe failed; will retry");
    }
    if (this.#me) await this.#publishCommands().catch(() => {});
    if (this.#cfg.mode === "polling") {
      this.#poller = new TelegramPoller({
        client: this.client,
        botId: this.#cfg.botToken.split(":")[0]!,
        account: this.account,
        store: this.#ctx.store,
        owner: this.#ctx.owner ?? `telegram-${randomUUID()}`,
        log,
        health: this.#health,
        pollTimeoutSec: this.#cfg.pollTimeoutSec,
        leaseTtlMs: this.#cfg.leaseTtlMs,
        handle: (updates) => this.#commit(updates),
      });
      this.#poller.start();
    } else {
      this.#health.status("running");
    }
    log.info(
      { account: this.account, bot: this.#me ? `@${this.#me.username}` : undefined, mode: this.#cfg.mode },
      "telegram: started",
    );
  }

  async stop() {
    await this.#poller?.stop();
    this.#health.status("stopped");
  }

  async #identity(): Promise<BotIdentity> {
    if (this.#me) return this.#me;
    const me = await this.client.getMe();
    this.#me = { id: me.id, username: me.username ?? "" };
    return this.#me;
  }

  /**
   * Commits updates in order; an update we ignore (not addressed, another bot's command) is simply skipped. One
   * that cannot be read is recorded as dead and skipped too: it must not hold back the updates after it.
   */
  async #commit(updates: unknown[]) {
    const me = await this.#identity();
    for (const update of updates) {
      const r = normalizeUpdate(update, {
        account: this.account,
        bot: me,
        requireMention: this.#cfg.requireMention,
      });
      if (r.kind === "unreadable") {
        await this.#recordUnreadable(update, r.updateId, r.reason);
        continue;
      }
      if (r.kind === "ignored") continue;
      const event = r.event;
      if (!event.addressed && !event.action) continue;
      if (event.action) {
        // A long value rode on the button as a reference; an expired one resolves to "" (answered as stale).
        event.action.value = (await decodeButtonValue(this.#ctx.store, event.action.value)) ?? "";
      }
      this.#health.inbound();
      await this.#ctx.ingest(event);
    }
  }

  /**
   * A dead update: logged with its update_id and kept (namespace telegram:unreadable, key <account>:<update_id>,
   * for UNREADABLE_KEEP_MS) so an operator can see what Telegram sent; the health record says so too.
   */
  async #recordUnreadable(update: unknown, updateId: number | undefined, reason: string) {
    const message = `telegram: could not read update ${updateId ?? "(no update_id)"} of account "${this.account}", skipped: ${reason}`;
    this.#ctx.log.error({ account: this.account, updateId, reason }, message);
    this.#health.error(message);
    let raw: string;
    try {
      raw = JSON.stringify(update) ?? String(update);
    } catch {
      raw = String(update);
    }
    await this.#ctx.store.kvSet(
      UNREADABLE_NS,
      `${this.account}:${updateId ?? createHash("sha256").update(raw).digest("hex").slice(0, 16)}`,
      JSON.stringify({ at: new Date().toISOString(), reason, update: cutText(raw, 16_384) }),
      UNREADABLE_KEEP_MS,
    );
  }

  /** setMyCommands only when the list differs from what this bot last published (hash kept in the store). */
  async #publishCommands() {
    if (!this.#cfg.setCommands || !this.#ctx.commandList) return;
    const commands = this.#ctx
      .commandList()
      .map((c) => ({ command: c.name.replace(/^\//, ""), description: cutText(c.description, 256) }))
      .filter((c) => /^[a-z0-9_]{1,32}$/.test(c.command) && c.description.length > 0);
    const hash = createHash("sha256").update(JSON.stringify(commands)).digest("hex");
    const key = String(this.#me!.id);
    if ((await this.#ctx.store.kvGet(COMMANDS_NS, key)) === hash) return;
    try {
      await this.client.setMyCommands(commands);
      await this.#ctx.store.kvSet(COMMANDS_NS, key, hash);
    } catch (err) {
      this.#ctx.log.warn(
        { account: this.account, err: (err as Error).message },
        "telegram: setMyCommands failed",
      );
    }
  }

  // ---- sending ----

  send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    return this.#health.track(() => this.#send(to, message, options));
  }

  async #send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions): Promise<SentMessage> {
    const keyboard = await this.#keyboard(message);
    const base: TgSendOptions = {
      messageThreadId: topicOf(to),
      replyToMessageId: numberOr(to.replyContext?.replyToMessageId),
    };
    const steps = sendSteps(message).map((step) => {
      const o = { ...base, keyboard: step.withKeyboard ? keyboard : undefined };
      return step.kind === "text"
        ? () => this.#sendText(to, step.text, o)
        : () => this.#sendMedia(to, step.kind, step.item, step.caption, o);
    });
    // Text and files are separate calls: when a later one fails (a 429 on the photo), the outbox retries the
    // whole item, and the retry resumes after the messages that went out instead of sending them again.
    const last = await sendPartsOnce(this.#ctx.store, options.idempotencyKey, steps, (step) => step());
    return { messageId: last ? String(last.message_id) : undefined };
  }

  edit(to: DeliveryAddress, messageId: string, message: OutboundMessage): Promise<void> {
    return this.#health.track(() => this.#edit(to, messageId, message));
  }

  async #edit(to: DeliveryAddress, messageId: string, message: OutboundMessage): Promise<void> {
    const keyboard = await this.#keyboard(message);
    const id = Number(messageId);
    const text = message.text || "…";
    await this.#paced(to, async () => {
      try {
        await this.#withFormat(text, (t, parseMode) =>
          this.client.editMessageText(to.conversationId, id, t, { parseMode, keyboard }),
        );
      } catch (err) {
        // Streaming may already show the final text: Telegram says so with a 400 that means success.
        if (/message is not modified/i.test(telegramDescription(err))) return;
        throw err;
      }
    });
  }

  async answerAction(event: InboundEvent, text?: string): Promise<void> {
    if (!event.action) return;
    await this.client.answerCallbackQuery(
      event.action.id,
      text === undefined ? undefined : cutText(text, TELEGRAM_MAX_CALLBACK_ANSWER),
    );
  }

  fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    const { botToken: token, apiBase } = this.#cfg;
    const policy = fetchPolicyFromConfig(this.#ctx.config);
    return fetchTelegramFile({ client: this.client, token, apiBase, policy }, attachment, limits);
  }

  isTrusted(event: InboundEvent): boolean {
    return this.#allowed.has(event);
  }

  health() {
    return this.#health.snapshot();
  }

  #sendText(to: DeliveryAddress, text: string, o: TgSendOptions): Promise<TgMessage> {
    return this.#paced(to, () =>
      this.#withFormat(text, (t, parseMode) =>
        this.client.sendMessage(to.conversationId, t, { ...o, parseMode }),
      ),
    );
  }

  #sendMedia(
    to: DeliveryAddress,
    kind: "photo" | "document",
    item: MediaItem,
    caption: string | undefined,
    o: TgSendOptions,
  ) {
    const file = { bytes: Buffer.from(item.dataBase64, "base64"), mime: item.mime, filename: item.filename };
    return this.#paced(to, () =>
      this.#withFormat(caption ?? "", (t, parseMode) =>
        this.client.sendFile(kind, to.conversationId, file, t || undefined, {
          ...o,
          parseMode: t ? parseMode : undefined,
        }),
      ),
    );
  }

  /** Sends formatted; when Telegram refuses the markup ("can't parse entities"), sends the plain text instead. */
  async #withFormat<T>(text: string, call: (text: string, parseMode?: "HTML") => Promise<T>): Promise<T> {
    if (this.#cfg.format === "none" || !text) return call(text);
    try {
      return await call(markdownToTelegramHtml(text), "HTML");
    } catch (err) {
      if (!/can't parse entities|unsupported start tag|can't find end tag/i.test(telegramDescription(err)))
        throw err;
      this.#ctx.log.debug({ account: this.account }, "telegram refused the markup; sending plain text");
      return call(markdownToPlainText(text));
    }
  }

  async #keyboard(message: OutboundMessage) {
    if (!message.buttons?.length) return undefined;
    const buttons = [];
    for (const b of message.buttons) {
      const data = await encodeButtonValue(this.#ctx.store, b.value, TELEGRAM_MAX_CALLBACK_BYTES);
      buttons.push({ text: b.label, data });
    }
    return inlineKeyboard(buttons);
  }

  /**
   * Waits for the pacer (≈1 message/s per chat, 20/min per group, 30/s per bot) and runs the call; a 429 blocks
   * that chat only, for Telegram's retry_after, and goes back to the outbox as a RateLimitedError.
   */
  async #paced<T>(to: DeliveryAddress, call: () => Promise<T>): Promise<T> {
    const chatKey = `chat:${to.conversationId}`;
    const specs: BucketSpec[] = [
      { key: "bot", ...TELEGRAM_PACE.bot },
      { key: chatKey, ...TELEGRAM_PACE.chat },
    ];
    if (to.conversationId.startsWith("-"))
      specs.push({ key: `group:${to.conversationId}`, ...TELEGRAM_PACE.group });
    for (;;) {
      const wait = this.#pacer.tryTake(specs);
      if (wait === 0) break;
      if (wait > MAX_INLINE_WAIT_MS)
        throw new RateLimitedError(wait, `telegram: chat ${to.conversationId} is paced`);
      await new Promise((r) => setTimeout(r, wait));
    }
    try {
      return await call();
    } catch (err) {
      if (err instanceof RateLimitedError) this.#pacer.block(chatKey, err.retryAfterMs);
      throw err;
    } finally {
      // The next call to this chat waits a whole interval from Telegram's answer, not from our request, so two
      // calls never arrive closer than the limit however long this one was in transit.
      this.#pacer.settle(specs);
    }
  }
}

function topicOf(to: DeliveryAddress): number | undefined {
  const m = /^topic:(\d+)$/.exec(to.thread ?? "");
  return m ? Number(m[1]) : undefined;
}

function numberOr(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

export const telegramModule = defineChannel({
  ...telegramSettings,
  apiVersion: CHANNEL_API_VERSION,
  fromEnv: telegramFromEnv,
  create: (settings, ctx, account) =>
    new TelegramAdapter(telegramAccountConfig(settings, account, ctx.env), ctx),
  doctor: (settings, ctx) => telegramDoctor(telegramAccountConfig(settings, ctx.account, ctx.env), ctx),
});
