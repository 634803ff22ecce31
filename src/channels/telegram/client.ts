// The Telegram Bot API over fetch: one method per call we make, errors mapped by the shared platformFetch
// (429 → RateLimitedError with parameters.retry_after; other 4xx → PlatformClientError carrying the status and
// Telegram's description). The token is part of the URL, so URLs never reach a log.
import { PlatformClientError, platformFetch } from "../shared/platform-fetch.ts";
import type { TgMessage, TgUser } from "./types.ts";

export interface TelegramClientOptions {
  token: string;
  apiBase: string;
}

interface TgEnvelope<T> {
  ok: boolean;
  result: T;
  description?: string;
  error_code?: number;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
}

export type InlineKeyboard = { text: string; callback_data: string }[][];

export interface SendOptions {
  messageThreadId?: number;
  replyToMessageId?: number;
  parseMode?: "HTML";
  keyboard?: InlineKeyboard;
}

/**
 * Telegram's Bot FAQ, "My bot is hitting limits, how do I avoid this?" (core.telegram.org/bots/faq): in one chat
 * no more than about one message per second (short bursts tolerated), about 30 messages per second in all, and
 * no more than 20 messages per minute to the same group. We send at those rates but keep most of the burst
 * unused: requests taken on time can reach Telegram bunched (a busy machine, uneven transit) and Telegram meters
 * arrivals, so the bot bucket lets 10 go at once where Telegram tolerates about 30, which absorbs two thirds of a
 * second of bunching. One chat is spaced from Telegram's answer (Pacer.settle), so it needs only a 5 % margin.
 */
export const TELEGRAM_PACE = {
  bot: { ratePerSec: 30, burst: 10 },
  chat: { ratePerSec: 0.95, burst: 1 },
  group: { ratePerSec: 20 / 60, burst: 14 },
};

const retryAfterFromBody = (body: unknown) => (body as TgEnvelope<unknown>)?.parameters?.retry_after;

/** Telegram's description of a refusal ("Bad Request: can't parse entities: …"), when it gave one. */
export function telegramDescription(err: unknown): string {
  if (err instanceof PlatformClientError) {
    const d = (err.body as TgEnvelope<unknown> | undefined)?.description;
    if (typeof d === "string") return d;
  }
  return err instanceof Error ? err.message : String(err);
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof PlatformClientError && err.status === status;
}

export class TelegramClient {
  readonly #base: string;

  constructor(o: TelegramClientOptions) {
    this.#base = `${o.apiBase.replace(/\/+$/, "")}/bot${o.token}`;
  }

  async call<T>(
    method: string,
    params: Record<string, unknown> | FormData = {},
    o: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<T> {
    const res = await platformFetch<TgEnvelope<T>>(`${this.#base}/${method}`, {
      method: "POST",
      body: params,
      timeoutMs: o.timeoutMs,
      signal: o.signal,
      retryAfterFromBody,
      what: `Telegram ${method}`,
    });
    if (!res.body || typeof res.body !== "object" || res.body.ok !== true) {
      throw new PlatformClientError(
        `Telegram ${method}: unexpected answer ${JSON.stringify(res.body).slice(0, 200)}`,
        res.status,
        res.body,
      );
    }
    return res.body.result;
  }

  getMe(): Promise<TgUser> {
    return this.call<TgUser>("getMe", {}, { timeoutMs: 15_000 });
  }

  /**
   * Long poll: holds the request up to `timeoutSec` until updates arrive. The updates are returned unread:
   * normalizeUpdate checks each one's shape.
   */
  async getUpdates(offset: number | undefined, timeoutSec: number, signal: AbortSignal): Promise<unknown[]> {
    const updates = await this.call<unknown>(
      "getUpdates",
      {
        ...(offset !== undefined ? { offset } : {}),
        timeout: timeoutSec,
        limit: 100,
        allowed_updates: ["message", "callback_query"],
      },
      { timeoutMs: (timeoutSec + 15) * 1000, signal },
    );
    if (!Array.isArray(updates))
      throw new Error(`Telegram getUpdates: expected a list of updates, got ${typeof updates}`);
    return updates;
  }

  sendMessage(chatId: string, text: string, o: SendOptions = {}): Promise<TgMessage> {
    return this.call<TgMessage>("sendMessage", {
      chat_id: chatId,
      text,
      ...common(o),
      link_preview_options: { is_disabled: true },
    });
  }

  editMessageText(chatId: string, messageId: number, text: string, o: SendOptions = {}): Promise<unknown> {
    return this.call("editMessageText", {
      chat_id: chatId,
      message_id: messageId,
      text,
      ...(o.parseMode ? { parse_mode: o.parseMode } : {}),
      ...(o.keyboard ? { reply_markup: { inline_keyboard: o.keyboard } } : {}),
      link_preview_options: { is_disabled: true },
    });
  }

  /** sendPhoto / sendDocument as multipart: the file's bytes travel with the request. */
  sendFile(
    kind: "photo" | "document",
    chatId: string,
    file: { bytes: Buffer; mime: string; filename: string },
    caption: string | undefined,
    o: SendOptions = {},
  ): Promise<TgMessage> {
    const form = new FormData();
    form.set("chat_id", chatId);
    form.set(kind, new Blob([new Uint8Array(file.bytes)], { type: file.mime }), file.filename);
    if (caption) form.set("caption", caption);
    for (const [k, v] of Object.entries(common(o))) {
      form.set(k, typeof v === "object" ? JSON.stringify(v) : String(v));
    }
    return this.call<TgMessage>(kind === "photo" ? "sendPhoto" : "sendDocument", form);
  }

  answerCallbackQuery(id: string, text?: string): Promise<unknown> {
    return this.call("answerCallbackQuery", { callback_query_id: id, ...(text ? { text } : {}) });
  }

  setMyCommands(commands: { command: string; description: string }[]): Promise<unknown> {
    return this.call("setMyCommands", { commands });
  }

  setWebhook(url: string, secretToken: string): Promise<unknown> {
    return this.call("setWebhook", {
      url,
      secret_token: secretToken,
      allowed_updates: ["message", "callback_query"],
      drop_pending_updates: false,
    });
  }

  deleteWebhook(): Promise<unknown> {
    return this.call("deleteWebhook", { drop_pending_updates: false });
  }

  getWebhookInfo(): Promise<{ url: string; pending_update_count: number; last_error_message?: string }> {
    return this.call("getWebhookInfo");
  }
}

function common(o: SendOptions): Record<string, unknown> {
  return {
    ...(o.messageThreadId ? { message_thread_id: o.messageThreadId } : {}),
    ...(o.replyToMessageId
      ? { reply_parameters: { message_id: o.replyToMessageId, allow_sending_without_reply: true } }
      : {}),
    ...(o.parseMode ? { parse_mode: o.parseMode } : {}),
    ...(o.keyboard ? { reply_markup: { inline_keyboard: o.keyboard } } : {}),
  };
}
