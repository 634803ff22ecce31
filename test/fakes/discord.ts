// A fake Discord: REST under /api/v10 (gateway/bot, users/@me, channels, messages create/edit/list with JSON or
// multipart, application commands, interaction callbacks, the interaction webhook: original response and
// follow-ups) with Bot-token auth, rate-limit headers and 429s on demand, and a gateway WebSocket (the `ws`
// package) speaking the real protocol: HELLO, IDENTIFY → READY, heartbeat ACK, dispatches with sequence numbers,
// RESUME → replay + RESUMED, and close codes 4004/4014. Attachments: registered files are served like Discord's
// CDN, at /attachments/{channel}/{id}/{filename} with a signed query (ex, is, hm) and their content type; an
// unsigned, tampered or expired URL answers 404 "This content is no longer available." (no token needed or read).
//
// Interactions follow Discord's rules (https://discord.com/developers/docs/interactions/receiving-and-responding):
// the first response must come within 3 s (later: 404, code 10062 Unknown interaction) and only once (400, code
// 40060); the token then works for 15 minutes on /webhooks/{application.id}/{token} (later: 401, code 50027
// Invalid Webhook Token; a token whose interaction was never acknowledged: 404, code 10015 Unknown Webhook).
// Ids are real snowflakes: their top bits are the creation time in ms since 2015-01-01.
import { createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

export interface FakeDiscordBot {
  token: string;
  id: string;
  username: string;
}

/** Discord bot tokens begin with the bot's user id in base64. */
export function fakeDiscordToken(id: string): string {
  return `${Buffer.from(id).toString("base64").replace(/=+$/, "")}.GfAkEx.${"s".repeat(38)}`;
}

export interface DcFakeMessage {
  id: string;
  channel_id: string;
  content: string;
  /** Set on interaction responses and follow-ups: the interaction they answer. */
  interactionId?: string;
  /** 64 ephemeral (only the user sees it; not listed in the channel), 128 loading ("thinking…"). */
  flags?: number;
  nonce?: string;
  components?: unknown[];
  message_reference?: { message_id: string };
  allowed_mentions?: unknown;
  /** Uploaded files; `data` holds the exact bytes. */
  files: { name: string; size: number; type: string; data: Buffer }[];
  createdAt: number;
  edits: { content: string; at: number }[];
}

export interface DcFakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type?: string;
  duration_secs?: number;
  waveform?: string;
}

export interface DcCdnDownload {
  path: string;
  status: number;
  /** Whether the request carried an Authorization header (the CDN needs none). */
  authorized: boolean;
  at: number;
}

export interface DcFakeCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
}

interface Session {
  id: string;
  seq: number;
  /** Every dispatch of the session, for replay on RESUME. */
  events: { s: number; t: string; d: unknown }[];
  socket?: WebSocket;
}

const INTENT_MESSAGE_CONTENT = 1 << 15;
const DISCORD_EPOCH_MS = 1_420_070_400_000;
/** "The past few minutes" in which Discord checks an enforced nonce. */
const NONCE_WINDOW_MS = 2 * 60_000;
const COMMAND_NAME = /^[-_'\p{Ll}\p{Lo}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

interface FakeInteraction {
  id: string;
  token: string;
  channelId: string;
  createdAt: number;
  /** The callback type it was answered with. */
  response?: number;
  originalId?: string;
  expired?: boolean;
}

export interface FakeCommand {
  id: string;
  name: string;
  type: number;
  description: string;
  options?: { type: number; name: string; description: string; required?: boolean; max_length?: number }[];
}

/** Discord's snowflake for a time: ms since 2015 in the top 42 bits, then worker, process and increment. */
export function snowflakeAt(ms: number, increment = 0): string {
  return String((BigInt(Math.floor(ms - DISCORD_EPOCH_MS)) << 22n) | BigInt(increment & 0xfff));
}

export class FakeDiscord {
  readonly calls: DcFakeCall[] = [];
  /** Gateway opcodes received, in order. */
  readonly gatewayLog: { op: number; d: unknown; at: number }[] = [];
  readonly messages: DcFakeMessage[] = [];
  readonly interactionResponses: { id: string; type: number; data?: Record<string, unknown>; at: number }[] =
    [];
  readonly followUps: { token: string; body: Record<string, unknown> }[] = [];
  readonly channels = new Map<string, { id: string; type: number; guild_id?: string; parent_id?: string }>();
  /** Every GET of a CDN path, served or refused. */
  readonly cdnDownloads: DcCdnDownload[] = [];
  url = "";
  /** The next IDENTIFY is answered with this close code (4004 bad token, 4014 disallowed intents). */
  closeNextIdentifyWith: number | undefined;
  /** Refuse the MESSAGE_CONTENT intent like an application that has not enabled it. */
  messageContentAllowed = true;
  heartbeatIntervalMs = 1000;
  readonly bot: FakeDiscordBot;
  #server: Server;
  #wss: WebSocketServer;
  #sockets = new Set<Socket>();
  #sessions = new Map<string, Session>();
  #current: Session | undefined;
  #increment = 0;
  #rateLimits = new Map<string, { retryAfter: number; count: number }>();
  #interactions = new Map<string, FakeInteraction>();
  #loseAnswers: { method: string; path: RegExp; hold: boolean }[] = [];
  #files = new Map<string, { bytes: Buffer; contentType?: string; expired: boolean }>();
  readonly #cdnKey = randomUUID();
  /** Application commands by scope: "global" or a guild id (bulk overwrites replace a scope's list). */
  readonly commands = new Map<string, FakeCommand[]>();
  /** Largest upload a message may carry: 10 MiB without server boosts. */
  uploadLimitBytes = 10 * 1024 * 1024;
  /** How long an interaction may go unanswered (Discord: 3 s). */
  ackWindowMs = 3000;
  /** How long an interaction token works (Discord: 15 minutes). */
  tokenTtlMs = 15 * 60_000;

  constructor(bot: FakeDiscordBot) {
    this.bot = bot;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
    this.#wss = new WebSocketServer({ server: this.#server });
    this.#wss.on("connection", (ws) => this.#onSocket(ws));
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/api`;
    return this;
  }

  async stop() {
    for (const c of this.#wss.clients) c.terminate();
    this.#wss.close();
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  get wsUrl(): string {
    return this.url.replace(/^http/, "ws").replace(/\/api$/, "/gateway");
  }

  // ---- test controls ----

  snowflake(): string {
    return snowflakeAt(Date.now(), this.#increment++);
  }

  /** The interaction token stops working, as it does 15 minutes after the interaction. */
  expireInteraction(id: string) {
    const i = this.#interactions.get(id);
    if (i) i.expired = true;
  }

  /**
   * The next request matching is carried out but its answer is lost (the connection drops before the response),
   * like a network failure between Discord doing it and the client hearing about it. `hold`: the answer never
   * comes and the connection stays open (the client is to be killed meanwhile).
   */
  loseNextAnswer(method: string, path: RegExp, o: { hold?: boolean } = {}) {
    this.#loseAnswers.push({ method, path, hold: o.hold === true });
  }

  /** A slash command typed by a user: only commands the application registered (globally or in the guild). */
  slashCommand(
    name: string,
    o: { args?: string; channelId: string; guildId?: string; userId?: string; id?: string },
  ): Record<string, unknown> {
    const command = [
      ...(this.commands.get("global") ?? []),
      ...(this.commands.get(o.guildId ?? "") ?? []),
    ].find((c) => c.name === name);
    if (!command) throw new Error(`fake discord: /${name} is not a registered application command`);
    const user = { id: o.userId ?? "500", username: `user${o.userId ?? "500"}` };
    const interaction = {
      id: o.id ?? this.snowflake(),
      application_id: this.bot.id,
      type: 2,
      token: `itoken-${randomUUID()}`,
      channel_id: o.channelId,
      ...(o.guildId ? { guild_id: o.guildId, member: { user } } : { user }),
      data: {
        id: command.id,
        name,
        type: 1,
        ...(o.args !== undefined ? { options: [{ name: "args", type: 3, value: o.args }] } : {}),
      },
    };
    this.#track(interaction);
    this.dispatch("INTERACTION_CREATE", interaction);
    return interaction;
  }

  #track(i: { id: string; token: string; channel_id: string }) {
    const createdAt = Number(BigInt(i.id) >> 22n) + DISCORD_EPOCH_MS;
    this.#interactions.set(i.id, { id: i.id, token: i.token, channelId: i.channel_id, createdAt });
  }

  /** The answer the user sees to an interaction: the original response and its follow-ups, in order. */
  answersTo(interactionId: string): DcFakeMessage[] {
    return this.messages.filter((m) => m.interactionId === interactionId);
  }

  get connected(): boolean {
    return this.#current?.socket?.readyState === 1;
  }

  /** Sends a dispatch on the live session (or keeps it for replay when the socket is down). */
  dispatch(t: string, d: unknown) {
    const session = this.#current;
    if (!session) throw new Error("fake discord: no session (the client never identified)");
    const event = { s: ++session.seq, t, d };
    session.events.push(event);
    if (session.socket?.readyState === 1) session.socket.send(JSON.stringify({ op: 0, ...event }));
  }

  /** The CDN's signature over a path and its expiry (the real one is Discord's secret; this one is the fake's). */
  #sign(path: string, ex: string, is: string): string {
    return createHmac("sha256", this.#cdnKey).update(`${path}|${ex}|${is}`).digest("hex");
  }

  /**
   * A file a user uploads: served on the fake's CDN, with an attachment object for userMessage({attachments}).
   * Voice messages: contentType "audio/ogg" plus `voice` (duration_secs and waveform, as Discord sends them).
   */
  registerAttachment(o: {
    bytes: Buffer;
    filename: string;
    contentType?: string;
    channelId: string;
    voice?: boolean;
  }): DcFakeAttachment {
    const id = this.snowflake();
    const path = `/attachments/${o.channelId}/${id}/${encodeURIComponent(o.filename)}`;
    const now = Math.floor(Date.now() / 1000);
    const ex = (now + 86_400).toString(16);
    const is = now.toString(16);
    const url = `${this.url.replace(/\/api$/, "")}${path}?ex=${ex}&is=${is}&hm=${this.#sign(path, ex, is)}&`;
    this.#files.set(path, { bytes: o.bytes, contentType: o.contentType, expired: false });
    return {
      id,
      filename: o.filename,
      size: o.bytes.length,
      url,
      proxy_url: url,
      ...(o.contentType ? { content_type: o.contentType } : {}),
      ...(o.voice ? { duration_secs: 2.5, waveform: Buffer.alloc(32, 7).toString("base64") } : {}),
    };
  }

  /** The attachment's signed URLs stop working, as they do after about a day. */
  expireAttachment(a: DcFakeAttachment) {
    const file = this.#files.get(new URL(a.url).pathname);
    if (file) file.expired = true;
  }

  /** A user's message; `guildId` makes it a guild message, else a DM. */
  userMessage(o: {
    content: string;
    /** Attachment objects from registerAttachment. */
    attachments?: DcFakeAttachment[];
    /** Message flags, e.g. 1 << 13 for a voice message. */
    flags?: number;
    stickerItems?: { id: string; name: string; format_type: number }[];
    /** false: only build the message (a test reads it itself); the bot never receives it. */
    dispatch?: boolean;
    channelId: string;
    guildId?: string;
    userId?: string;
    mentionBot?: boolean;
    replyToBotMessage?: string;
    bot?: boolean;
    /** A snowflake of another time (an old message replayed). */
    id?: string;
  }): Record<string, unknown> {
    const author = { id: o.userId ?? "500", username: `user${o.userId ?? "500"}`, bot: o.bot ?? false };
    const content = o.mentionBot ? `<@${this.bot.id}> ${o.content}` : o.content;
    const msg = {
      id: o.id ?? this.snowflake(),
      channel_id: o.channelId,
      ...(o.guildId ? { guild_id: o.guildId } : {}),
      author,
      content: this.messageContentAllowed ? content : "",
      mentions: o.mentionBot ? [{ id: this.bot.id, username: this.bot.username, bot: true }] : [],
      attachments: o.attachments ?? [],
      ...(o.flags !== undefined ? { flags: o.flags } : {}),
      ...(o.stickerItems ? { sticker_items: o.stickerItems } : {}),
      ...(o.replyToBotMessage
        ? {
            message_reference: { message_id: o.replyToBotMessage, channel_id: o.channelId },
            referenced_message: {
              id: o.replyToBotMessage,
              author: { id: this.bot.id, username: this.bot.username, bot: true },
              content: "earlier",
            },
          }
        : {}),
    };
    if (o.dispatch !== false) this.dispatch("MESSAGE_CREATE", msg);
    return msg;
  }

  /** A press on a button of a message the bot sent. */
  pressButton(message: DcFakeMessage, customId: string, o: { userId?: string; guildId?: string } = {}) {
    const interaction = {
      id: this.snowflake(),
      application_id: this.bot.id,
      type: 3,
      token: `itoken-${randomUUID()}`,
      channel_id: message.channel_id,
      ...(o.guildId
        ? { guild_id: o.guildId, member: { user: { id: o.userId ?? "500", username: "presser" } } }
        : { user: { id: o.userId ?? "500", username: "presser" } }),
      message: {
        id: message.id,
        channel_id: message.channel_id,
        content: message.content,
        author: { id: this.bot.id },
      },
      data: { custom_id: customId, component_type: 2 },
    };
    this.#track(interaction);
    this.dispatch("INTERACTION_CREATE", interaction);
    return interaction;
  }

  /** Drops the gateway connection without a close frame, like a network failure. */
  dropConnection() {
    this.#current?.socket?.terminate();
  }

  #failures: { status: number; code: number; message: string }[] = [];

  /**
   * The next message create/edit (any channel) answers this JSON error, e.g. 403 / 50007 "Cannot send messages
   * to this user" or 404 / 10003 "Unknown Channel" (discord.com/developers/docs/topics/opcodes-and-status-codes).
   */
  failNext(status: number, code: number, message: string) {
    this.#failures.push({ status, code, message });
  }

  /** The next `count` message creates/edits in this channel get 429 with retry_after. */
  rateLimit(channelId: string, retryAfterSec: number, count = 1) {
    this.#rateLimits.set(channelId, { retryAfter: retryAfterSec, count });
  }

  messagesIn(channelId: string): DcFakeMessage[] {
    return this.messages.filter((m) => m.channel_id === channelId);
  }

  // ---- gateway ----

  #onSocket(ws: WebSocket) {
    ws.send(
      JSON.stringify({ op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs }, s: null, t: null }),
    );
    ws.on("message", (raw) => {
      let payload: { op: number; d: Record<string, unknown> | number | null };
      try {
        payload = JSON.parse(raw.toString());
      } catch {
        return ws.close(4002, "Error while decoding payload.");
      }
      this.gatewayLog.push({ op: payload.op, d: payload.d, at: Date.now() });
      const d = (payload.d ?? {}) as Record<string, unknown>;
      switch (payload.op) {
        case 1:
          return ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
        case 2: {
          if (this.closeNextIdentifyWith) {
            const code = this.closeNextIdentifyWith;
            this.closeNextIdentifyWith = undefined;
            return ws.close(code, code === 4004 ? "Authentication failed." : "Disallowed intent(s).");
          }
          if (d.token !== this.bot.token) return ws.close(4004, "Authentication failed.");
          if (!this.messageContentAllowed && (Number(d.intents) & INTENT_MESSAGE_CONTENT) !== 0) {
            return ws.close(4014, "Disallowed intent(s).");
          }
          const session: Session = { id: randomUUID().replace(/-/g, ""), seq: 0, events: [], socket: ws };
          this.#sessions.set(session.id, session);
          this.#current = session;
          const ready = {
            v: 10,
            user: { id: this.bot.id, username: this.bot.username, bot: true },
            guilds: [],
            session_id: session.id,
            resume_gateway_url: this.wsUrl,
            application: { id: this.bot.id, flags: 0 },
          };
          this.dispatch("READY", ready);
          return;
        }
        case 6: {
          const session = this.#sessions.get(String(d.session_id));
          if (!session || d.token !== this.bot.token) {
            return ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
          }
          session.socket = ws;
          this.#current = session;
          const after = Number(d.seq ?? 0);
          for (const e of session.events.filter((e) => e.s > after && e.t !== "READY")) {
            ws.send(JSON.stringify({ op: 0, ...e }));
          }
          const resumed = { s: ++session.seq, t: "RESUMED", d: {} };
          ws.send(JSON.stringify({ op: 0, ...resumed }));
          return;
        }
        default:
          return;
      }
    });
  }

  // ---- REST ----

  /** The CDN: the bytes under a valid signature, else Discord's 404 text. */
  #cdn(req: IncomingMessage, res: ServerResponse, url: URL) {
    req.resume();
    const path = url.pathname;
    const file = this.#files.get(path);
    const ex = url.searchParams.get("ex") ?? "";
    const is = url.searchParams.get("is") ?? "";
    const valid =
      file !== undefined &&
      !file.expired &&
      url.searchParams.get("hm") === this.#sign(path, ex, is) &&
      Number.parseInt(ex, 16) * 1000 > Date.now();
    this.cdnDownloads.push({
      path,
      status: valid ? 200 : 404,
      authorized: req.headers.authorization !== undefined,
      at: Date.now(),
    });
    if (!valid) {
      const text = "This content is no longer available.";
      res.writeHead(404, { "content-type": "text/plain", "content-length": Buffer.byteLength(text) });
      return res.end(text);
    }
    res.writeHead(200, {
      "content-type": file.contentType ?? "application/octet-stream",
      "content-length": file.bytes.length,
    });
    res.end(file.bytes);
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname.startsWith("/attachments/") && req.method === "GET") return this.#cdn(req, res, url);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const path = url.pathname.replace(/^\/api\/v10/, "");
    const method = req.method ?? "GET";
    let body: Record<string, unknown> = {};
    let files: File[] = [];
    try {
      ({ body, files } = await parseBody(req, raw));
    } catch {
      return this.#send(res, 400, { message: "400: Bad Request", code: 50109 });
    }
    const call: DcFakeCall = { method, path, body, at: Date.now(), status: 200 };
    this.calls.push(call);
    const lose = this.#loseAnswers.findIndex((l) => l.method === method && l.path.test(path));
    const lost = lose === -1 ? undefined : this.#loseAnswers.splice(lose, 1)[0];
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      if (lost?.hold) return;
      if (lost) res.socket?.destroy();
      else this.#send(res, status, payload, headers);
    };
    const webhookLike = path.startsWith("/interactions/") || path.startsWith("/webhooks/");
    if (!webhookLike && req.headers.authorization !== `Bot ${this.bot.token}`) {
      return answer(401, { message: "401: Unauthorized", code: 0 });
    }
    // Uploads over the limit are refused whatever the route (channel messages, interaction answers).
    if (files.reduce((n, f) => n + f.size, 0) > this.uploadLimitBytes) {
      return answer(413, { message: "Request entity too large", code: 40005 });
    }
    const channelRoute = /^\/channels\/(\d+)$/.exec(path);
    const messageRoute = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(path);
    const callbackRoute = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    const followUpRoute = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path);
    const originalRoute = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/.exec(path);
    const commandsRoute = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path);
    if (commandsRoute) return this.#commandsRoute(method, commandsRoute[1]!, commandsRoute[2], body, answer);
    if (method === "GET" && messageRoute && !messageRoute[2]) {
      // Newest first; `after` lists those created after an id (https://discord.com/developers/docs/resources/message#get-channel-messages).
      const after = BigInt(url.searchParams.get("after") ?? "0");
      const limit = Math.min(100, Number(url.searchParams.get("limit") ?? 50));
      const listed = this.messagesIn(messageRoute[1]!)
        .filter((m) => !(m.flags! & 64) && BigInt(m.id) > after)
        .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1))
        .slice(0, limit)
        .map((m) => this.#wire(m));
      return answer(200, listed);
    }
    if (method === "GET" && path === "/gateway/bot") {
      return answer(200, {
        url: this.wsUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    if (method === "GET" && path === "/applications/@me") {
      // GATEWAY_MESSAGE_CONTENT_LIMITED (1 << 19): the intent switched on for an unverified application.
      const flags = this.messageContentAllowed ? 1 << 19 : 0;
      return answer(200, { id: this.bot.id, name: this.bot.username, bot_public: true, flags });
    }
    if (method === "GET" && path === "/users/@me") {
      return answer(200, { id: this.bot.id, username: this.bot.username, bot: true });
    }
    if (method === "GET" && channelRoute) {
      const c = this.channels.get(channelRoute[1]!);
      return c ? answer(200, c) : answer(404, { message: "Unknown Channel", code: 10003 });
    }
    if (messageRoute && (method === "POST" || method === "PATCH")) {
      const channelId = messageRoute[1]!;
      const failure = this.#failures.shift();
      if (failure) return answer(failure.status, { message: failure.message, code: failure.code });
      const limited = this.#rateLimits.get(channelId);
      const bucket = { "x-ratelimit-bucket": `bucket-${channelId}`, "x-ratelimit-limit": "5" };
      if (limited && limited.count > 0) {
        limited.count--;
        return answer(
          429,
          { message: "You are being rate limited.", retry_after: limited.retryAfter, global: false },
          {
            ...bucket,
            "retry-after": String(limited.retryAfter),
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset-after": String(limited.retryAfter),
            "x-ratelimit-scope": "user",
          },
        );
      }
      const headers = { ...bucket, "x-ratelimit-remaining": "4", "x-ratelimit-reset-after": "1" };
      const content = typeof body.content === "string" ? body.content : "";
      if (content.length > 2000) {
        return answer(400, {
          message: "Invalid Form Body",
          code: 50035,
          errors: {
            content: {
              _errors: [{ code: "BASE_TYPE_MAX_LENGTH", message: "Must be 2000 or fewer in length." }],
            },
          },
        });
      }
      if (method === "PATCH") {
        const msg = this.messages.find((x) => x.id === messageRoute[2] && x.channel_id === channelId);
        if (!msg) return answer(404, { message: "Unknown Message", code: 10008 });
        msg.content = content;
        if (body.components) msg.components = body.components as unknown[];
        msg.edits.push({ content, at: Date.now() });
        return answer(200, { id: msg.id, channel_id: channelId, content }, headers);
      }
      if (!content && files.length === 0)
        return answer(400, { message: "Cannot send an empty message", code: 50006 });
      // enforce_nonce: a message this author created with the same nonce in the past few minutes is returned
      // instead of creating another (https://discord.com/developers/docs/resources/message#create-message).
      const nonce =
        typeof body.nonce === "string" || typeof body.nonce === "number" ? String(body.nonce) : undefined;
      if (nonce !== undefined && String(nonce).length > 25) {
        return answer(400, { message: "Invalid Form Body", code: 50035 });
      }
      const same =
        body.enforce_nonce === true && nonce !== undefined
          ? this.messages.find((m) => m.nonce === nonce && Date.now() - m.createdAt < NONCE_WINDOW_MS)
          : undefined;
      if (same) return answer(200, this.#wire(same), headers);
      const msg: DcFakeMessage = {
        ...(nonce !== undefined ? { nonce } : {}),
        id: this.snowflake(),
        channel_id: channelId,
        content,
        components: body.components as unknown[] | undefined,
        message_reference: body.message_reference as DcFakeMessage["message_reference"],
        allowed_mentions: body.allowed_mentions,
        files: files.map(uploaded),
        createdAt: Date.now(),
        edits: [],
      };
      this.messages.push(msg);
      return answer(
        200,
        { id: msg.id, channel_id: channelId, content, author: { id: this.bot.id } },
        headers,
      );
    }
    if (method === "POST" && callbackRoute) {
      const id = callbackRoute[1]!;
      const interaction = this.#interactions.get(id);
      const unknown = { message: "Unknown interaction", code: 10062 };
      if (!interaction || interaction.token !== callbackRoute[2]) return answer(404, unknown);
      if (interaction.response !== undefined)
        return answer(400, { message: "Interaction has already been acknowledged.", code: 40060 });
      if (Date.now() - interaction.createdAt > this.ackWindowMs) return answer(404, unknown);
      if (![4, 5, 6, 7].includes(Number(body.type)))
        return answer(400, { message: "Invalid Form Body", code: 50035 });
      interaction.response = Number(body.type);
      const data = (body.data ?? {}) as Record<string, unknown>;
      if (interaction.response === 4 || interaction.response === 5) {
        // The original response is a message in the channel; a deferred one shows "thinking…" until edited.
        const flags = (Number(data.flags ?? 0) & 64) | (interaction.response === 5 ? 128 : 0);
        const content = interaction.response === 4 && typeof data.content === "string" ? data.content : "";
        interaction.originalId = this.#store(interaction.channelId, content, {
          interactionId: id,
          flags,
        }).id;
      }
      this.interactionResponses.push({
        id,
        type: Number(body.type),
        data: body.data as Record<string, unknown>,
        at: Date.now(),
      });
      return answer(204, null);
    }
    if (followUpRoute || originalRoute) {
      const [, appId, token] = (followUpRoute ?? originalRoute)!;
      const interaction = [...this.#interactions.values()].find((i) => i.token === token);
      if (appId !== this.bot.id || !interaction || interaction.response === undefined) {
        return answer(404, { message: "Unknown Webhook", code: 10015 });
      }
      if (interaction.expired || Date.now() - interaction.createdAt > this.tokenTtlMs) {
        return answer(401, { message: "Invalid Webhook Token", code: 50027 });
      }
      const content = typeof body.content === "string" ? body.content : "";
      if (content.length > 2000) {
        return answer(400, { message: "Invalid Form Body", code: 50035 });
      }
      if (method === "PATCH" && originalRoute) {
        const msg = this.messages.find((m) => m.id === interaction.originalId);
        if (!msg) return answer(404, { message: "Unknown Message", code: 10008 });
        msg.content = content;
        msg.flags = (msg.flags ?? 0) & ~128;
        if (body.components) msg.components = body.components as unknown[];
        if (files.length) msg.files = files.map(uploaded);
        msg.edits.push({ content, at: Date.now() });
        return answer(200, this.#wire(msg));
      }
      if (method === "POST" && followUpRoute) {
        this.followUps.push({ token, body });
        if (!content && files.length === 0)
          return answer(400, { message: "Cannot send an empty message", code: 50006 });
        const msg = this.#store(interaction.channelId, content, {
          interactionId: interaction.id,
          flags: Number(body.flags ?? 0) & 64,
          components: body.components as unknown[] | undefined,
          files,
        });
        return answer(200, this.#wire(msg));
      }
    }
    answer(404, { message: "404: Not Found", code: 0 });
  }

  #commandsRoute(
    method: string,
    appId: string,
    guildId: string | undefined,
    body: unknown,
    answer: (status: number, payload: unknown) => void,
  ) {
    if (appId !== this.bot.id) return answer(403, { message: "Missing Access", code: 50001 });
    const scope = guildId ?? "global";
    if (method === "GET") return answer(200, this.commands.get(scope) ?? []);
    if (method !== "PUT") return answer(405, { message: "405: Method Not Allowed", code: 0 });
    // Bulk overwrite (https://discord.com/developers/docs/interactions/application-commands): the list replaces
    // the scope's commands; an invalid one refuses the whole request.
    const list = Array.isArray(body) ? (body as Record<string, unknown>[]) : undefined;
    const invalid = (why: string) =>
      answer(400, { message: "Invalid Form Body", code: 50035, errors: { _errors: [{ message: why }] } });
    if (!list) return invalid("expected an array of commands");
    if (list.length > 100) return invalid("at most 100 commands");
    const names = new Set<string>();
    for (const c of list) {
      const name = String(c.name ?? "");
      const description = String(c.description ?? "");
      if (!COMMAND_NAME.test(name)) return invalid(`invalid command name ${name}`);
      if (names.has(name)) return invalid(`duplicate command name ${name}`);
      names.add(name);
      if (description.length < 1 || description.length > 100) return invalid(`description of ${name}`);
      for (const opt of (c.options ?? []) as Record<string, unknown>[]) {
        const d = String(opt.description ?? "");
        if (!COMMAND_NAME.test(String(opt.name ?? "")) || d.length < 1 || d.length > 100)
          return invalid(`option of ${name}`);
      }
    }
    const previous = new Map((this.commands.get(scope) ?? []).map((c) => [c.name, c.id]));
    const stored = list.map((c) => ({
      ...(c as unknown as FakeCommand),
      type: Number(c.type ?? 1),
      id: previous.get(String(c.name)) ?? this.snowflake(),
    }));
    this.commands.set(scope, stored);
    return answer(200, stored);
  }

  #store(
    channelId: string,
    content: string,
    o: { interactionId?: string; flags?: number; components?: unknown[]; files?: File[] } = {},
  ): DcFakeMessage {
    const msg: DcFakeMessage = {
      id: this.snowflake(),
      channel_id: channelId,
      content,
      ...(o.interactionId ? { interactionId: o.interactionId } : {}),
      ...(o.flags ? { flags: o.flags } : {}),
      components: o.components,
      files: (o.files ?? []).map(uploaded),
      createdAt: Date.now(),
      edits: [],
    };
    this.messages.push(msg);
    return msg;
  }

  /** A stored message as Discord sends it: interaction answers are webhook messages of the application. */
  #wire(m: DcFakeMessage) {
    return {
      id: m.id,
      channel_id: m.channel_id,
      content: m.content,
      author: { id: this.bot.id, username: this.bot.username, bot: true },
      ...(m.flags ? { flags: m.flags } : {}),
      ...(m.interactionId
        ? { webhook_id: this.bot.id, interaction_metadata: { id: m.interactionId, type: 2 } }
        : {}),
    };
  }

  #send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}) {
    if (status === 204) {
      res.writeHead(204, headers).end();
      return;
    }
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  }
}

/** The bytes of each uploaded file, read while the request body is parsed. */
const fileBytes = new WeakMap<File, Buffer>();

function uploaded(f: File): DcFakeMessage["files"][number] {
  return { name: f.name, size: f.size, type: f.type, data: fileBytes.get(f) ?? Buffer.alloc(0) };
}

async function parseBody(
  req: IncomingMessage,
  raw: Buffer,
): Promise<{ body: Record<string, unknown>; files: File[] }> {
  const type = req.headers["content-type"] ?? "";
  if (raw.length === 0) return { body: {}, files: [] };
  if (type.includes("application/json")) return { body: JSON.parse(raw.toString("utf8")), files: [] };
  if (type.includes("multipart/form-data")) {
    const form = await new Response(new Uint8Array(raw), { headers: { "content-type": type } }).formData();
    const files: File[] = [];
    let body: Record<string, unknown> = {};
    for (const [k, v] of form.entries()) {
      if (k === "payload_json" && typeof v === "string") body = JSON.parse(v);
      else if (typeof v !== "string") {
        fileBytes.set(v, Buffer.from(await v.arrayBuffer()));
        files.push(v);
      }
    }
    return { body, files };
  }
  throw new Error("unsupported content type");
}
