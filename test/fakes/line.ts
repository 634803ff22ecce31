// A fake LINE Messaging API: reply (single-use, expiring reply tokens it issued) and push (X-Line-Retry-Key with
// 409 for a key already accepted), LINE's {message, details} errors, 401 for a bad token, and 429 on demand or
// past LINE's rate limit (2,000 requests a second per endpoint and channel, metered on arrival).
// Records what it accepted. Also signs webhook bodies the way LINE does. Serves the data API too (content of
// images, videos, audio and files users sent, GET /v2/bot/message/{id}/content, and the preparation status of
// videos and audio at /content/transcoding), with the same token check and {"message":"Not found"} for ids it
// does not know. Tests point both apiBase and dataApiBase at it.
//
// Connections can be cut (cutNext) before or after LINE takes a request: LINE's own guide on retries says a
// request that timed out or failed may still have been delivered ("Retry failed API requests",
// developers.line.biz/en/docs/messaging-api/retrying-api-request). A latency delays every answer after the
// request was taken, which is when a crash leaves a delivery in doubt.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Limit, RateMeter } from "./rate-meter.ts";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface LineCall {
  path: string;
  body: { replyToken?: string; to?: string; messages: Record<string, unknown>[] };
  retryKey?: string;
  at: number;
}

export type TranscodingStatus = "processing" | "succeeded" | "failed";

interface StoredContent {
  bytes: Buffer;
  contentType: string;
  transcoding: TranscodingStatus;
}

const CONTENT_PATH = /^\/v2\/bot\/message\/([^/]+)\/content(\/transcoding)?$/;

const WEBHOOK_ENDPOINT = "/v2/bot/channel/webhook/endpoint";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class FakeLine {
  readonly token: string;
  /** Accepted sends. */
  readonly calls: LineCall[] = [];
  /** Refused requests: status and LINE's message. */
  readonly refused: { path: string; status: number; message: string; at: number }[] = [];
  url = "";
  #replyTokens = new Map<string, { expiresAt: number; used: boolean }>();
  #retryKeys = new Map<string, { requestId: string; sentMessages: { id: string; quoteToken: string }[] }>();
  #rateLimit = 0;
  #rateLimitPush = 0;
  /**
   * Per endpoint (developers.line.biz/en/reference/messaging-api/#rate-limits): reply and push are "Other API
   * endpoints", 2,000 requests per second each. A test may lower it; null turns it off.
   */
  limit: Limit | null = { perSec: 2000, burst: 2000 };
  readonly meter = new RateMeter();
  #cuts: ("before" | "after")[] = [];
  #failures: { status: number; message: string }[] = [];
  /** The webhook settings of the channel (LINE Developers Console → Messaging API → Webhook settings). */
  webhook = { endpoint: "", active: false };
  /** Delay of every answer, after the request was taken. */
  latencyMs = 0;
  /** Requests to the data API: path and the Authorization header they carried. */
  readonly contentRequests: { path: string; authorization?: string }[] = [];
  #content = new Map<string, StoredContent>();
  #ids = 0;
  #server: Server;

  constructor(o: { token?: string } = {}) {
    this.token = o.token ?? "line-channel-access-token";
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) => res.writeHead(500).end(String(err)));
    });
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
  }

  /** A reply token as LINE puts in a webhook event, valid for `ttlMs`. */
  issueReplyToken(ttlMs = 60_000): string {
    const token = randomBytes(16).toString("hex");
    this.#replyTokens.set(token, { expiresAt: Date.now() + ttlMs, used: false });
    return token;
  }

  /**
   * Content a user sent (an image, video, audio or file message), served by the data API under the returned
   * message id. Videos and audio can start as "processing", as LINE's do right after they are sent.
   */
  addContent(o: { bytes: Buffer; contentType: string; transcoding?: TranscodingStatus }): string {
    const id = String(600_000_000_000_000 + ++this.#ids);
    this.#content.set(id, {
      bytes: o.bytes,
      contentType: o.contentType,
      transcoding: o.transcoding ?? "succeeded",
    });
    return id;
  }

  setTranscoding(messageId: string, status: TranscodingStatus) {
    const c = this.#content.get(messageId);
    if (!c) throw new Error(`no content ${messageId}`);
    c.transcoding = status;
  }

  rateLimitNext(count: number) {
    this.#rateLimit = count;
  }

  /** The next `count` push calls (not replies) get a 429. */
  rateLimitNextPush(count: number) {
    this.#rateLimitPush = count;
  }

  /**
   * The next send call answers this LINE error, e.g. 400 "The property, 'to', in the request body is invalid" or
   * 403 "Access to this API is not available for your account" (Messaging API reference, "Status codes").
   */
  failNext(status: number, message: string) {
    this.#failures.push({ status, message });
  }

  /**
   * Cuts the connection of the next send calls: "before" LINE looked at the request (nothing sent), or "after"
   * it took it (sent, but the caller never hears so).
   */
  cutNext(...when: ("before" | "after")[]) {
    this.#cuts.push(...when);
  }

  texts(): string[] {
    return this.calls.flatMap((c) =>
      c.body.messages.filter((m) => m.type === "text").map((m) => String(m.text)),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    const path = new URL(req.url ?? "/", this.url).pathname;
    const content = CONTENT_PATH.exec(path);
    if (content && req.method === "GET") return this.#serveContent(req, res, content[1]!, !!content[2]);
    const cut = this.#cuts.length && path.startsWith("/v2/bot/message/") ? this.#cuts.shift() : undefined;
    if (cut === "before") return void req.socket.destroy();
    const fail = (status: number, message: string, details?: unknown[]) => {
      this.refused.push({ path, status, message, at: Date.now() });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(details ? { message, details } : { message }));
    };
    if (path === "/v2/bot/info" || path === WEBHOOK_ENDPOINT) return this.#botSettings(req, raw, res, path);
    if (req.method !== "POST" || (path !== "/v2/bot/message/reply" && path !== "/v2/bot/message/push"))
      return fail(404, "Not found");
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return fail(
        401,
        "Authentication failed. Confirm that the access token in the authorization header is valid.",
      );
    if (this.#rateLimit > 0 || (this.#rateLimitPush > 0 && path === "/v2/bot/message/push")) {
      if (this.#rateLimit > 0) this.#rateLimit--;
      else this.#rateLimitPush--;
      return fail(429, "The API rate limit has been exceeded. Try again later.");
    }
    if (this.limit && this.meter.hit([[`endpoint:${path}`, this.limit]]).waitMs > 0)
      return fail(429, "The API rate limit has been exceeded. Try again later.");
    const failure = this.#failures.shift();
    if (failure) return fail(failure.status, failure.message);
    let body: LineCall["body"];
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return fail(400, "The request body could not be parsed as JSON");
    }
    const problems = validateMessages(body.messages);
    if (problems.length) return fail(400, `The request body has ${problems.length} error(s)`, problems);

    const retryKey = req.headers["x-line-retry-key"] as string | undefined;
    if (path === "/v2/bot/message/reply") {
      if (retryKey) return fail(400, "X-Line-Retry-Key is not supported by this API");
      const t = this.#replyTokens.get(String(body.replyToken));
      if (!t || t.used || t.expiresAt < Date.now()) return fail(400, "Invalid reply token");
      t.used = true;
    } else {
      if (typeof body.to !== "string" || !/^[UCR][0-9a-f]{32}$/.test(body.to))
        return fail(400, "The property, 'to', in the request body is invalid");
      if (retryKey !== undefined) {
        if (!UUID.test(retryKey)) return fail(400, "The retry key must be a UUID");
        const accepted = this.#retryKeys.get(retryKey);
        if (accepted) {
          this.refused.push({
            path,
            status: 409,
            message: "The retry key is already accepted",
            at: Date.now(),
          });
          // LINE names the request that was accepted and repeats what it sent.
          res.writeHead(409, {
            "content-type": "application/json",
            "x-line-accepted-request-id": accepted.requestId,
          });
          return res.end(
            JSON.stringify({
              message: "The retry key is already accepted",
              sentMessages: accepted.sentMessages,
            }),
          );
        }
      }
    }
    const requestId = `req-${++this.#ids}`;
    const sentMessages = body.messages.map(() => ({ id: String(++this.#ids), quoteToken: "q" }));
    if (retryKey !== undefined) this.#retryKeys.set(retryKey, { requestId, sentMessages });
    this.calls.push({ path, body, retryKey, at: Date.now() });
    if (cut === "after") return void req.socket.destroy();
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    res.writeHead(200, { "content-type": "application/json", "x-line-request-id": requestId });
    res.end(JSON.stringify({ sentMessages }));
  }

  /** GET /v2/bot/info, GET and PUT /v2/bot/channel/webhook/endpoint, as the Messaging API reference describes them. */
  #botSettings(req: IncomingMessage, raw: Buffer, res: ServerResponse, path: string) {
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return json(401, {
        message: "Authentication failed. Confirm that the access token in the authorization header is valid.",
      });
    }
    if (path === "/v2/bot/info" && req.method === "GET") {
      return json(200, {
        userId: "Ufake0000000000000000000000000000",
        basicId: "@fakebot",
        displayName: "Fake LINE bot",
        chatMode: "bot",
        markAsReadMode: "auto",
      });
    }
    if (path === WEBHOOK_ENDPOINT && req.method === "GET") return json(200, this.webhook);
    if (path === WEBHOOK_ENDPOINT && req.method === "PUT") {
      let body: { endpoint?: unknown };
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return json(400, { message: "The request body could not be parsed as JSON" });
      }
      if (typeof body.endpoint !== "string" || !body.endpoint.startsWith("https://"))
        return json(400, { message: "Invalid webhook endpoint URL" });
      // Only the URL changes; "Use webhook" stays as the console set it.
      this.webhook = { ...this.webhook, endpoint: body.endpoint };
      return json(200, {});
    }
    return json(404, { message: "Not found" });
  }

  #serveContent(req: IncomingMessage, res: ServerResponse, id: string, transcoding: boolean) {
    const authorization = req.headers.authorization;
    this.contentRequests.push({ path: req.url ?? "", ...(authorization ? { authorization } : {}) });
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (authorization !== `Bearer ${this.token}`) {
      return json(401, {
        message: "Authentication failed. Confirm that the access token in the authorization header is valid.",
      });
    }
    const c = this.#content.get(decodeURIComponent(id));
    if (!c) return json(404, { message: "Not found" });
    if (transcoding) return json(200, { status: c.transcoding });
    // Asked for before LINE finished converting it: accepted, nothing to send yet.
    if (c.transcoding === "processing") return res.writeHead(202).end();
    if (c.transcoding === "failed") return json(404, { message: "Not found" });
    res.writeHead(200, { "content-type": c.contentType, "content-length": c.bytes.length });
    res.end(c.bytes);
  }
}

function validateMessages(messages: unknown): { message: string; property: string }[] {
  if (!Array.isArray(messages) || messages.length < 1 || messages.length > 5)
    return [{ message: "Size must be between 1 and 5", property: "messages" }];
  const out: { message: string; property: string }[] = [];
  messages.forEach((m: Record<string, unknown>, i) => {
    if (m.type === "text") {
      if (typeof m.text !== "string" || m.text.length === 0 || m.text.length > 5000)
        out.push({ message: "Length must be between 1 and 5000", property: `messages[${i}].text` });
    } else if (m.type === "image") {
      for (const k of ["originalContentUrl", "previewImageUrl"]) {
        const u = m[k];
        if (typeof u !== "string" || !u.startsWith("https://") || u.length > 2000)
          out.push({ message: "Must be a valid HTTPS URL", property: `messages[${i}].${k}` });
      }
    } else out.push({ message: "Unsupported message type", property: `messages[${i}].type` });
    const qr = m.quickReply as { items?: { action?: { label?: string; data?: string } }[] } | undefined;
    if (qr) {
      if (!Array.isArray(qr.items) || qr.items.length > 13)
        out.push({ message: "Size must be between 1 and 13", property: `messages[${i}].quickReply.items` });
      for (const item of qr.items ?? []) {
        if (!item.action?.label || item.action.label.length > 20)
          out.push({ message: "Length must be between 1 and 20", property: "quickReply.items.action.label" });
        if (!item.action?.data || item.action.data.length > 300)
          out.push({ message: "Length must be between 1 and 300", property: "quickReply.items.action.data" });
      }
    }
  });
  return out;
}

/** X-Line-Signature as LINE computes it. */
export function lineWebhookSignature(secret: string, body: string): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

/** A LINE user/group id: prefix and 32 hex characters. */
export function lineId(prefix: "U" | "C" | "R", seed: string): string {
  return prefix + createHmac("sha256", "ids").update(seed).digest("hex").slice(0, 32);
}

/**
 * A message event of any type, as LINE sends it: `message` is the message object without its id (image, video,
 * audio and file messages use the id content was registered under: pass it as `id`).
 */
export function lineMessageEvent(o: {
  message: Record<string, unknown>;
  userId: string;
  groupId?: string;
  replyToken?: string;
  webhookEventId?: string;
}): Record<string, unknown> {
  return {
    type: "message",
    mode: "active",
    timestamp: Date.now(),
    webhookEventId: o.webhookEventId ?? `01H${randomBytes(12).toString("hex").toUpperCase()}`,
    deliveryContext: { isRedelivery: false },
    source: o.groupId
      ? { type: "group", groupId: o.groupId, userId: o.userId }
      : { type: "user", userId: o.userId },
    replyToken: o.replyToken,
    message: { id: String(Date.now()), quoteToken: "q", ...o.message },
  };
}

export function lineTextEvent(o: {
  text: string;
  userId: string;
  groupId?: string;
  replyToken?: string;
  webhookEventId?: string;
  mentionSelf?: { index: number; length: number };
}): Record<string, unknown> {
  return {
    type: "message",
    mode: "active",
    timestamp: Date.now(),
    webhookEventId: o.webhookEventId ?? `01H${randomBytes(12).toString("hex").toUpperCase()}`,
    deliveryContext: { isRedelivery: false },
    source: o.groupId
      ? { type: "group", groupId: o.groupId, userId: o.userId }
      : { type: "user", userId: o.userId },
    replyToken: o.replyToken,
    message: {
      type: "text",
      id: String(Date.now()),
      quoteToken: "q",
      text: o.text,
      ...(o.mentionSelf
        ? { mention: { mentionees: [{ ...o.mentionSelf, type: "user", isSelf: true }] } }
        : {}),
    },
  };
}
