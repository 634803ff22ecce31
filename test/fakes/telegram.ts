// A fake Telegram Bot API: real HTTP at /bot<token>/<method>, JSON / form / multipart bodies, the Bot API's
// envelopes and error descriptions, a getUpdates long poll that really holds the request, 409 for overlapping
// consumers or an active webhook, 429 with parameters.retry_after on demand, HTML parse-mode checking, and a
// timestamped log of every call so tests can check pacing. Sends are metered at the Bot FAQ's limits (about 30 a
// second per bot, one a second per chat with short bursts, 20 a minute per group) and refused past them with
// 429 and parameters.retry_after, as Telegram does. Several bots can share one fake. Files: getFile and
// GET /file/bot<token>/<file_path> as the Bot API serves them (file_ids belong to one bot; files over 20 MB are
// "too big" for getFile; downloads are application/octet-stream; a wrong token or path is a 404).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type Limit, RateMeter } from "./rate-meter.ts";

export interface FakeBot {
  token: string;
  id: number;
  username: string;
}

export interface FakeCall {
  token: string;
  method: string;
  params: Record<string, unknown>;
  at: number;
  status: number;
}

export interface FakeMessage {
  message_id: number;
  chat_id: string;
  text: string;
  thread?: number;
  reply_markup?: unknown;
  parse_mode?: string;
  /** The file sent with sendPhoto / sendDocument; `data` holds its exact bytes. */
  photo?: { bytes: number; mime: string; filename: string; data: Buffer };
  /** Which method sent it. */
  method?: string;
  caption?: string;
  sentAt: number;
  edits: { text: string; at: number }[];
}

export interface FakeFile {
  file_id: string;
  file_unique_id: string;
  file_path: string;
  bytes: Buffer;
}

export interface FakeDownload {
  token: string;
  path: string;
  status: number;
  at: number;
}

/** The Bot API's download limit: getFile refuses larger files with "file is too big". */
export const FAKE_TG_MAX_DOWNLOAD = 20 * 1024 * 1024;

interface BotState {
  bot: FakeBot;
  queue: Record<string, unknown>[];
  confirmedBelow: number;
  poll?: { wake: () => void };
  webhook?: { url: string; secret?: string };
  commands?: unknown;
  messages: FakeMessage[];
  nextMessageId: number;
  files: Map<string, FakeFile>;
}

const ALLOWED_TAGS = new Set([
  "b",
  "strong",
  "i",
  "em",
  "u",
  "ins",
  "s",
  "strike",
  "del",
  "code",
  "pre",
  "a",
  "span",
  "tg-spoiler",
  "blockquote",
]);

export class FakeTelegram {
  readonly calls: FakeCall[] = [];
  /** Every GET under /file/, answered or not. */
  readonly downloads: FakeDownload[] = [];
  url = "";
  /** Every parse_mode request fails with "can't parse entities" (tests the plain-text fallback). */
  rejectMarkup = false;
  #server: Server;
  #sockets = new Set<Socket>();
  #bots = new Map<string, BotState>();
  #nextUpdateId = 1000;
  #rateLimits = new Map<string, { retryAfter: number; count: number; method?: string }>();
  /** Telegram's limits on sends (core.telegram.org/bots/faq); a test may lower them, or null turns them off. */
  limits: { bot: Limit; chat: Limit; group: Limit } | null = {
    bot: { perSec: 30, burst: 30 },
    chat: { perSec: 1, burst: 3 },
    group: { perSec: 20 / 60, burst: 20 },
  };
  readonly meter = new RateMeter();
  #userMessageId = 1;
  #nextFile = 1;

  constructor(bots: FakeBot[]) {
    for (const bot of bots) {
      this.#bots.set(bot.token, {
        bot,
        queue: [],
        confirmedBelow: 0,
        messages: [],
        nextMessageId: 1,
        files: new Map(),
      });
    }
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async stop() {
    for (const b of this.#bots.values()) b.poll?.wake();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  /** Seconds to retry after when this send is over a limit, else undefined (and the send is counted). */
  #overLimit(token: string, chatId: string): number | undefined {
    const l = this.limits;
    if (!l) return undefined;
    const keys: [string, Limit][] = [
      [`bot:${token}`, l.bot],
      [`chat:${token}:${chatId}`, l.chat],
    ];
    if (chatId.startsWith("-")) keys.push([`group:${token}:${chatId}`, l.group]);
    const { waitMs } = this.meter.hit(keys);
    return waitMs > 0 ? Math.max(1, Math.ceil(waitMs / 1000)) : undefined;
  }

  // ---- test controls ----

  /** Queues an update for the bot (or POSTs it to the bot's webhook when one is set). Returns the update. */
  pushUpdate(token: string, update: Record<string, unknown>): Record<string, unknown> {
    const state = this.#state(token);
    const full = { update_id: this.#nextUpdateId++, ...update };
    if (state.webhook) void this.#deliverWebhook(state, full);
    else {
      state.queue.push(full);
      state.poll?.wake();
    }
    return full;
  }

  /** A user's text message; `chat` defaults to a private chat with the user. */
  userMessage(
    token: string,
    o: {
      text?: string;
      /** A media message's text. */
      caption?: string;
      /** Media fields of the Message object (photo, voice, document, sticker, location …), see mediaOf helpers. */
      media?: Record<string, unknown>;
      userId?: number;
      username?: string;
      chatId?: number;
      chatType?: "private" | "group" | "supergroup";
      topic?: number;
      replyToBot?: boolean;
      entities?: unknown[];
      isBot?: boolean;
      /** Unix seconds; default now. */
      date?: number;
      /** Replaces the `from` user (GroupAnonymousBot, the "Telegram" service user 777000 …). */
      from?: Record<string, unknown>;
      /** The chat the message is sent on behalf of: the group itself (anonymous admin) or a channel. */
      senderChat?: { id: number; type: "supergroup" | "group" | "channel"; title?: string };
      /** A channel post Telegram copied into the channel's discussion group. */
      automaticForward?: boolean;
      /** false: only build the update (a test reads it itself); the bot never receives it. */
      push?: boolean;
    },
  ): Record<string, unknown> {
    const state = this.#state(token);
    const userId = o.userId ?? 42;
    const chatType = o.chatType ?? "private";
    const chatId = o.chatId ?? userId;
    const message: Record<string, unknown> = {
      message_id: this.#userMessageId++,
      from: o.from ?? {
        id: userId,
        is_bot: o.isBot ?? false,
        first_name: "Test",
        username: o.username ?? `user${userId}`,
      },
      ...(o.senderChat ? { sender_chat: o.senderChat } : {}),
      ...(o.automaticForward ? { is_automatic_forward: true } : {}),
      chat: {
        id: chatId,
        type: chatType,
        ...(chatType === "private" ? {} : { title: "Group", is_forum: o.topic !== undefined }),
      },
      date: o.date ?? Math.floor(Date.now() / 1000),
      ...(o.text !== undefined ? { text: o.text } : {}),
      ...(o.caption !== undefined ? { caption: o.caption } : {}),
      ...o.media,
      ...(o.entities ? { entities: o.entities } : {}),
      ...(o.topic !== undefined ? { message_thread_id: o.topic, is_topic_message: true } : {}),
      ...(o.replyToBot
        ? {
            reply_to_message: {
              message_id: 1,
              from: { id: state.bot.id, is_bot: true, first_name: "Bot", username: state.bot.username },
              chat: { id: chatId, type: chatType },
              date: 0,
              text: "earlier",
            },
          }
        : {}),
    };
    if (o.push === false) return { update_id: this.#nextUpdateId++, message };
    return this.pushUpdate(token, { message });
  }

  /**
   * A file the bot can fetch with getFile: its file_id (valid for this bot only) and file_size, for a
   * Message's photo / voice / document field. `folder` is where Telegram files it ("photos", "voice", "documents").
   */
  registerFile(token: string, bytes: Buffer, folder = "documents", ext = "bin"): FakeFile {
    const n = this.#nextFile++;
    const file: FakeFile = {
      file_id: `AgACAgIAAx${n}kBAAF${token.split(":")[0]}`,
      file_unique_id: `AQAD${n}`,
      file_path: `${folder}/file_${n}.${ext}`,
      bytes,
    };
    this.#state(token).files.set(file.file_id, file);
    return file;
  }

  /** A registered file by its file_id. */
  file(token: string, fileId: string): FakeFile | undefined {
    return this.#state(token).files.get(fileId);
  }

  /** The file is gone (expired on Telegram's side): getFile says "invalid file_id", its path answers 404. */
  forgetFile(token: string, fileId: string) {
    this.#state(token).files.delete(fileId);
  }

  /** A Message's `photo`: a 90-px thumbnail and the full picture (`bytes`), smallest first as Telegram sends them. */
  photoOf(token: string, bytes: Buffer, thumbnail = Buffer.from("thumbnail")): Record<string, unknown> {
    const small = this.registerFile(token, thumbnail, "photos", "jpg");
    const full = this.registerFile(token, bytes, "photos", "jpg");
    return {
      photo: [
        {
          file_id: small.file_id,
          file_unique_id: small.file_unique_id,
          width: 90,
          height: 60,
          file_size: thumbnail.length,
        },
        {
          file_id: full.file_id,
          file_unique_id: full.file_unique_id,
          width: 1280,
          height: 853,
          file_size: bytes.length,
        },
      ],
    };
  }

  /** A Message's `voice` (OGG/Opus), `audio`, `video` or `document` field for these bytes. */
  fileOf(
    token: string,
    field: "voice" | "audio" | "video" | "document",
    bytes: Buffer,
    o: { mime?: string; fileName?: string } = {},
  ): Record<string, unknown> {
    const folder = { voice: "voice", audio: "music", video: "videos", document: "documents" }[field];
    const ext = field === "voice" ? "oga" : (o.fileName?.split(".").pop() ?? "bin");
    const f = this.registerFile(token, bytes, folder, ext);
    const mime = o.mime ?? (field === "voice" ? "audio/ogg" : undefined);
    return {
      [field]: {
        file_id: f.file_id,
        file_unique_id: f.file_unique_id,
        file_size: bytes.length,
        ...(mime ? { mime_type: mime } : {}),
        ...(o.fileName && field !== "voice" ? { file_name: o.fileName } : {}),
        ...(field === "voice" || field === "audio" || field === "video" ? { duration: 3 } : {}),
      },
    };
  }

  /** A press on an inline keyboard button of a message the bot sent. */
  pressButton(token: string, message: FakeMessage, data: string, userId = 42): Record<string, unknown> {
    const chatId = Number(message.chat_id);
    return this.pushUpdate(token, {
      callback_query: {
        id: `cbq-${this.#nextUpdateId}`,
        from: { id: userId, is_bot: false, first_name: "Test", username: `user${userId}` },
        chat_instance: "1",
        data,
        message: {
          message_id: message.message_id,
          from: { id: this.#state(token).bot.id, is_bot: true, first_name: "Bot" },
          chat: { id: chatId, type: chatId < 0 ? "supergroup" : "private" },
          date: 0,
          text: message.text,
          ...(message.thread ? { message_thread_id: message.thread, is_topic_message: true } : {}),
        },
      },
    });
  }

  /** Chats whose user blocked the bot: every send answers 403 as the Bot API does. */
  readonly blocked = new Set<string>();

  #failures: { status: number; description: string }[] = [];

  /**
   * The next send or edit (any chat) answers this Bot API error, e.g. 400 "Bad Request: chat not found" or 403
   * "Forbidden: bot was kicked from the group chat" (core.telegram.org/bots/api#making-requests: error_code and
   * description).
   */
  failNextSend(status: number, description: string) {
    this.#failures.push({ status, description });
  }

  /** The next `count` sends to this chat (of one method, when given) answer 429 with parameters.retry_after. */
  rateLimit(chatId: number | string, retryAfterSec: number, count = 1, method?: string) {
    this.#rateLimits.set(String(chatId), { retryAfter: retryAfterSec, count, method });
  }

  /**
   * BotFather's /revoke: the bot keeps its identity and chats under `newToken`; the old token answers 401
   * Unauthorized from now on (a long poll held with it ends).
   */
  revokeToken(oldToken: string, newToken: string) {
    const s = this.#state(oldToken);
    this.#bots.delete(oldToken);
    s.bot = { ...s.bot, token: newToken };
    this.#bots.set(newToken, s);
    s.poll?.wake();
  }

  messages(token: string, chatId?: number | string): FakeMessage[] {
    const all = this.#state(token).messages;
    return chatId === undefined ? all : all.filter((m) => m.chat_id === String(chatId));
  }

  webhookOf(token: string) {
    return this.#state(token).webhook;
  }

  commandsOf(token: string) {
    return this.#state(token).commands;
  }

  pendingUpdates(token: string): number {
    const s = this.#state(token);
    return s.queue.filter((u) => (u.update_id as number) >= s.confirmedBelow).length;
  }

  callsTo(method: string, token?: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method && (token === undefined || c.token === token));
  }

  #state(token: string): BotState {
    const s = this.#bots.get(token);
    if (!s) throw new Error(`fake telegram: no bot with that token`);
    return s;
  }

  // ---- the API ----

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const pathname = new URL(req.url ?? "/", "http://x").pathname;
    if (pathname.startsWith("/file/")) return this.#download(req, res, pathname);
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(pathname);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (!m) return this.#reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    const [, token, method] = m;
    const state = this.#bots.get(token!);
    let params: Record<string, unknown>;
    try {
      params = await parseBody(req, raw);
    } catch {
      return this.#reply(res, 400, {
        ok: false,
        error_code: 400,
        description: "Bad Request: can't parse request body",
      });
    }
    const call: FakeCall = { token: token!, method: method!, params, at: Date.now(), status: 200 };
    this.calls.push(call);
    const answer = (status: number, body: Record<string, unknown>) => {
      call.status = status;
      this.#reply(res, status, body);
    };
    if (!state) return answer(401, { ok: false, error_code: 401, description: "Unauthorized" });
    const ok = (result: unknown) => answer(200, { ok: true, result });
    const bad = (description: string) =>
      answer(400, { ok: false, error_code: 400, description: `Bad Request: ${description}` });

    switch (method) {
      case "getMe":
        return ok({
          id: state.bot.id,
          is_bot: true,
          first_name: "Fake bot",
          username: state.bot.username,
          can_join_groups: true,
        });
      case "getUpdates":
        return this.#getUpdates(state, params, req, answer);
      case "getFile": {
        const file = state.files.get(String(params.file_id ?? ""));
        if (!file) return bad("invalid file_id");
        if (file.bytes.length > FAKE_TG_MAX_DOWNLOAD) return bad("file is too big");
        return ok({
          file_id: file.file_id,
          file_unique_id: file.file_unique_id,
          file_size: file.bytes.length,
          file_path: file.file_path,
        });
      }
      case "sendMessage":
      case "sendPhoto":
      case "sendDocument":
      case "editMessageText": {
        const chatId = String(params.chat_id ?? "");
        if (!chatId) return bad("chat_id is empty");
        if (this.blocked.has(chatId)) {
          return answer(403, {
            ok: false,
            error_code: 403,
            description: "Forbidden: bot was blocked by the user",
          });
        }
        const failure = this.#failures.shift();
        if (failure)
          return answer(failure.status, {
            ok: false,
            error_code: failure.status,
            description: failure.description,
          });
        const limited = this.#rateLimits.get(chatId);
        if (limited && limited.count > 0 && (!limited.method || limited.method === method)) {
          limited.count--;
          return answer(429, {
            ok: false,
            error_code: 429,
            description: `Too Many Requests: retry after ${limited.retryAfter}`,
            parameters: { retry_after: limited.retryAfter },
          });
        }
        const over = method === "editMessageText" ? undefined : this.#overLimit(state.bot.token, chatId);
        if (over) {
          return answer(429, {
            ok: false,
            error_code: 429,
            description: `Too Many Requests: retry after ${over}`,
            parameters: { retry_after: over },
          });
        }
        const text = String(
          (method === "sendPhoto" || method === "sendDocument" ? params.caption : params.text) ?? "",
        );
        if (params.parse_mode === "HTML" && text) {
          const problem = this.rejectMarkup ? "rejected by test" : htmlProblem(text);
          if (problem) return bad(`can't parse entities: ${problem}`);
        }
        const visible = params.parse_mode === "HTML" ? stripTags(text) : text;
        if (method === "editMessageText") {
          const msg = state.messages.find(
            (x) => x.chat_id === chatId && x.message_id === Number(params.message_id),
          );
          if (!msg) return bad("message to edit not found");
          if (!visible.trim()) return bad("message text is empty");
          if (visible.length > 4096) return bad("MESSAGE_TOO_LONG");
          const markup = JSON.stringify(params.reply_markup ?? null);
          if (msg.text === visible && JSON.stringify(msg.reply_markup ?? null) === markup) {
            return bad(
              "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            );
          }
          msg.text = visible;
          if (params.reply_markup) msg.reply_markup = params.reply_markup;
          msg.edits.push({ text: visible, at: Date.now() });
          return ok({ message_id: msg.message_id, chat: { id: Number(chatId) }, text: visible });
        }
        let photo: FakeMessage["photo"];
        if (method !== "sendMessage") {
          const file = params[method === "sendPhoto" ? "photo" : "document"];
          if (!(file instanceof File)) return bad("there is no photo in the request");
          // Uploads: photos up to 10 MB, other files up to 50 MB (core.telegram.org/bots/api#sending-files).
          if (method === "sendPhoto" && file.size > 10 * 1024 * 1024) return bad("PHOTO_SAVE_FILE_INVALID");
          if (file.size > 50 * 1024 * 1024) {
            return answer(413, { ok: false, error_code: 413, description: "Request Entity Too Large" });
          }
          const data = Buffer.from(await file.arrayBuffer());
          photo = { bytes: file.size, mime: file.type, filename: file.name, data };
          if (visible.length > 1024) return bad("message caption is too long");
        } else {
          if (!visible.trim()) return bad("message text is empty");
          if (visible.length > 4096) return bad("message is too long");
        }
        const msg: FakeMessage = {
          message_id: state.nextMessageId++,
          chat_id: chatId,
          text: visible,
          thread: params.message_thread_id === undefined ? undefined : Number(params.message_thread_id),
          reply_markup: params.reply_markup,
          parse_mode: params.parse_mode as string | undefined,
          photo,
          method,
          caption: photo ? visible : undefined,
          sentAt: Date.now(),
          edits: [],
        };
        state.messages.push(msg);
        return ok({
          message_id: msg.message_id,
          chat: { id: Number(chatId), type: "private" },
          date: 0,
          text: visible,
        });
      }
      case "answerCallbackQuery":
        if (!params.callback_query_id) return bad("query id is empty");
        return ok(true);
      case "setMyCommands":
        if (!Array.isArray(params.commands)) return bad("commands must be an array");
        state.commands = params.commands;
        return ok(true);
      case "getMyCommands":
        return ok(state.commands ?? []);
      case "setWebhook": {
        const url = String(params.url ?? "");
        if (!url) {
          state.webhook = undefined;
          return ok(true);
        }
        if (!/^https?:\/\//.test(url)) return bad("bad webhook: invalid URL");
        state.webhook = { url, secret: params.secret_token as string | undefined };
        state.poll?.wake();
        return ok(true);
      }
      case "deleteWebhook":
        state.webhook = undefined;
        return ok(true);
      case "getWebhookInfo":
        return ok({ url: state.webhook?.url ?? "", pending_update_count: this.pendingUpdates(token!) });
      default:
        return answer(404, { ok: false, error_code: 404, description: "Not Found: method not found" });
    }
  }

  /** GET /file/bot<token>/<file_path>: the bytes as application/octet-stream, or 404 for anything unknown. */
  async #download(req: IncomingMessage, res: ServerResponse, pathname: string) {
    req.resume();
    const m = /^\/file\/bot([^/]+)\/(.+)$/.exec(pathname);
    const token = m?.[1] ?? "";
    const path = decodeURIComponent(m?.[2] ?? "");
    const file =
      req.method === "GET" || req.method === "HEAD"
        ? [...(this.#bots.get(token)?.files.values() ?? [])].find((f) => f.file_path === path)
        : undefined;
    this.downloads.push({ token, path, status: file ? 200 : 404, at: Date.now() });
    if (!file) return this.#reply(res, 404, { ok: false, error_code: 404, description: "Not Found" });
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": file.bytes.length,
    });
    res.end(req.method === "HEAD" ? undefined : file.bytes);
  }

  async #getUpdates(
    state: BotState,
    params: Record<string, unknown>,
    req: IncomingMessage,
    answer: (status: number, body: Record<string, unknown>) => void,
  ) {
    if (state.webhook) {
      return answer(409, {
        ok: false,
        error_code: 409,
        description:
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      });
    }
    if (state.poll) {
      return answer(409, {
        ok: false,
        error_code: 409,
        description:
          "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
      });
    }
    // An offset confirms every update below it: Telegram forgets them.
    if (params.offset !== undefined) {
      state.confirmedBelow = Math.max(state.confirmedBelow, Number(params.offset));
      state.queue = state.queue.filter((u) => (u.update_id as number) >= state.confirmedBelow);
    }
    const limit = Math.min(100, Math.max(1, Number(params.limit ?? 100)));
    const timeoutMs = Math.min(50, Math.max(0, Number(params.timeout ?? 0))) * 1000;
    if (state.queue.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          req.socket.off("close", done);
          if (state.poll === poll) state.poll = undefined;
          resolve();
        };
        const poll = { wake: done };
        state.poll = poll;
        const t = setTimeout(done, timeoutMs);
        // The consumer went away (killed, aborted): its long poll ends with it.
        req.socket.once("close", done);
      });
    }
    if (req.socket.destroyed) return;
    if (state.webhook) {
      return answer(409, {
        ok: false,
        error_code: 409,
        description:
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      });
    }
    answer(200, { ok: true, result: state.queue.slice(0, limit) });
  }

  async #deliverWebhook(state: BotState, update: Record<string, unknown>) {
    for (let attempt = 0; attempt < 5 && state.webhook; attempt++) {
      try {
        const res = await fetch(state.webhook.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(state.webhook.secret ? { "x-telegram-bot-api-secret-token": state.webhook.secret } : {}),
          },
          body: JSON.stringify(update),
        });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // retried below, as Telegram does
      }
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
    }
  }

  #reply(res: ServerResponse, status: number, body: unknown) {
    if (res.destroyed) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  }
}

async function parseBody(req: IncomingMessage, raw: Buffer): Promise<Record<string, unknown>> {
  const type = req.headers["content-type"] ?? "";
  if (raw.length === 0) return {};
  if (type.includes("application/json")) return JSON.parse(raw.toString("utf8"));
  if (type.includes("application/x-www-form-urlencoded") || type.includes("multipart/form-data")) {
    const form = await new Response(new Uint8Array(raw), { headers: { "content-type": type } }).formData();
    const out: Record<string, unknown> = {};
    for (const [k, v] of form.entries()) {
      if (typeof v !== "string") out[k] = v;
      else out[k] = parseMaybeJson(v);
    }
    return out;
  }
  throw new Error("unsupported content type");
}

/** What Telegram's HTML parser would refuse: unknown tags, unbalanced tags, bare "<" or "&". */
function htmlProblem(html: string): string | undefined {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z-]+)([^>]*)>|<|&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    if (m[0] === "<") return `unsupported start tag at byte offset ${m.index}`;
    if (m[0] === "&") return `unsupported entity at byte offset ${m.index}`;
    const [, close, tag] = m;
    const name = tag!.toLowerCase();
    if (!ALLOWED_TAGS.has(name)) return `unsupported start tag "${name}" at byte offset ${m.index}`;
    if (close) {
      if (stack.pop() !== name) return `can't find end tag corresponding to start tag "${name}"`;
    } else stack.push(name);
  }
  if (stack.length) return `can't find end tag corresponding to start tag "${stack.at(-1)}"`;
  return undefined;
}

function stripTags(html: string): string {
  return html
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

/** Form fields that carry objects (reply_markup, reply_parameters) are JSON; anything else stays text. */
function parseMaybeJson(v: string): unknown {
  if (!/^[[{]/.test(v)) return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}
