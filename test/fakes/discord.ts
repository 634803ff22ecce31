// A fake Discord: REST under /api/v10 (gateway/bot, users/@me, channels, messages create/edit with JSON or
// multipart, interaction callbacks and follow-ups) with Bot-token auth, rate-limit headers and 429s on demand, and
// a gateway WebSocket (the `ws` package) speaking the real protocol: HELLO, IDENTIFY → READY, heartbeat ACK,
// dispatches with sequence numbers, RESUME → replay + RESUMED, and close codes 4004/4014.
import { randomUUID } from "node:crypto";
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
  components?: unknown[];
  message_reference?: { message_id: string };
  allowed_mentions?: unknown;
  files: { name: string; size: number; type: string }[];
  createdAt: number;
  edits: { content: string; at: number }[];
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

export class FakeDiscord {
  readonly calls: DcFakeCall[] = [];
  /** Gateway opcodes received, in order. */
  readonly gatewayLog: { op: number; d: unknown; at: number }[] = [];
  readonly messages: DcFakeMessage[] = [];
  readonly interactionResponses: { id: string; type: number; data?: Record<string, unknown>; at: number }[] =
    [];
  readonly followUps: { token: string; body: Record<string, unknown> }[] = [];
  readonly channels = new Map<string, { id: string; type: number; guild_id?: string; parent_id?: string }>();
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
  #nextId = 900_000_000_000_000_000n;
  #rateLimits = new Map<string, { retryAfter: number; count: number }>();
  #acked = new Set<string>();

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
    return String(this.#nextId++);
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

  /** A user's message; `guildId` makes it a guild message, else a DM. */
  userMessage(o: {
    content: string;
    channelId: string;
    guildId?: string;
    userId?: string;
    mentionBot?: boolean;
    replyToBotMessage?: string;
    bot?: boolean;
  }): Record<string, unknown> {
    const author = { id: o.userId ?? "500", username: `user${o.userId ?? "500"}`, bot: o.bot ?? false };
    const content = o.mentionBot ? `<@${this.bot.id}> ${o.content}` : o.content;
    const msg = {
      id: this.snowflake(),
      channel_id: o.channelId,
      ...(o.guildId ? { guild_id: o.guildId } : {}),
      author,
      content: this.messageContentAllowed ? content : "",
      mentions: o.mentionBot ? [{ id: this.bot.id, username: this.bot.username, bot: true }] : [],
      attachments: [],
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
    this.dispatch("MESSAGE_CREATE", msg);
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
    this.dispatch("INTERACTION_CREATE", interaction);
    return interaction;
  }

  /** Drops the gateway connection without a close frame, like a network failure. */
  dropConnection() {
    this.#current?.socket?.terminate();
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

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
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
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      call.status = status;
      this.#send(res, status, payload, headers);
    };
    const webhookLike = path.startsWith("/interactions/") || path.startsWith("/webhooks/");
    if (!webhookLike && req.headers.authorization !== `Bot ${this.bot.token}`) {
      return answer(401, { message: "401: Unauthorized", code: 0 });
    }
    const channelRoute = /^\/channels\/(\d+)$/.exec(path);
    const messageRoute = /^\/channels\/(\d+)\/messages(?:\/(\d+))?$/.exec(path);
    const callbackRoute = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path);
    const followUpRoute = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path);
    if (method === "GET" && path === "/gateway/bot") {
      return answer(200, {
        url: this.wsUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
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
      const msg: DcFakeMessage = {
        id: this.snowflake(),
        channel_id: channelId,
        content,
        components: body.components as unknown[] | undefined,
        message_reference: body.message_reference as DcFakeMessage["message_reference"],
        allowed_mentions: body.allowed_mentions,
        files: files.map((f) => ({ name: f.name, size: f.size, type: f.type })),
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
      if (this.#acked.has(id))
        return answer(400, { message: "Interaction has already been acknowledged.", code: 40060 });
      if (![4, 5, 6, 7].includes(Number(body.type)))
        return answer(400, { message: "Invalid Form Body", code: 50035 });
      this.#acked.add(id);
      this.interactionResponses.push({
        id,
        type: Number(body.type),
        data: body.data as Record<string, unknown>,
        at: Date.now(),
      });
      return answer(204, null);
    }
    if (method === "POST" && followUpRoute) {
      this.followUps.push({ token: followUpRoute[2]!, body });
      return answer(200, { id: this.snowflake(), content: body.content });
    }
    answer(404, { message: "404: Not Found", code: 0 });
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
      else if (typeof v !== "string") files.push(v);
    }
    return { body, files };
  }
  throw new Error("unsupported content type");
}
