// A fake Slack: the Web API methods clawgate calls (auth, JSON and form bodies, {ok:false,error} answers, HTTP 429
// with Retry-After) and the external upload URL, recording everything; plus request signing as Slack does it.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  contentType: string;
  at: number;
  /** The ts chat.postMessage gave the message (chat.update names it in args.ts). */
  ts?: string;
  /** The error Slack answered with ({ok:false, error}), when it refused. */
  error?: string;
}

export interface SlackUpload {
  fileId: string;
  bytes: Buffer;
  filename: string;
}

const CHANNEL = /^[CDG][A-Z0-9]{2,}$/;

export class FakeSlack {
  readonly token: string;
  readonly botUserId: string;
  readonly calls: SlackCall[] = [];
  readonly rateLimited: { method: string; at: number }[] = [];
  readonly uploads: SlackUpload[] = [];
  url = "";
  #pendingUploads = new Map<string, { filename: string; length: number }>();
  #rateLimit = { count: 0, retryAfterSec: 1, methods: [] as string[] };
  #errors: string[] = [];
  #ts = 1_700_000_000;
  #files = 0;
  #server: Server;

  constructor(o: { token?: string; botUserId?: string } = {}) {
    this.token = o.token ?? "xoxb-test-token";
    this.botUserId = o.botUserId ?? "UBOT";
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    });
  }

  get apiBase() {
    return `${this.url}/api`;
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
  }

  /** The next `count` calls to any of `methods` (default: any method) answer HTTP 429 with Retry-After. */
  rateLimitNext(count: number, retryAfterSec = 1, methods: string[] = []) {
    this.#rateLimit = { count, retryAfterSec, methods };
  }

  /**
   * The next chat.postMessage / chat.update answers {ok:false, error}: e.g. "channel_not_found" or
   * "not_in_channel", which Slack returns with HTTP 200 (docs.slack.dev/reference/methods/chat.postMessage).
   */
  failNext(error: string) {
    this.#errors.push(error);
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", this.url);
    if (url.pathname.startsWith("/upload/")) return this.#upload(url.pathname.slice(8), body, res);
    if (!url.pathname.startsWith("/api/")) return res.writeHead(404).end("not found");
    const method = url.pathname.slice(5);
    const contentType = String(req.headers["content-type"] ?? "");
    let args: Record<string, unknown> = {};
    if (contentType.startsWith("application/json")) {
      try {
        args = JSON.parse(body.toString("utf8"));
      } catch {
        return ok(res, { ok: false, error: "invalid_json" });
      }
    } else if (contentType.startsWith("application/x-www-form-urlencoded")) {
      args = Object.fromEntries(new URLSearchParams(body.toString("utf8")));
    }
    const auth = req.headers.authorization;
    if (!auth) return ok(res, { ok: false, error: "not_authed" });
    if (auth !== `Bearer ${this.token}`) return ok(res, { ok: false, error: "invalid_auth" });

    const rl = this.#rateLimit;
    if (rl.count > 0 && (rl.methods.length === 0 || rl.methods.includes(method))) {
      rl.count--;
      this.rateLimited.push({ method, at: Date.now() });
      res.writeHead(429, { "content-type": "application/json", "retry-after": String(rl.retryAfterSec) });
      return res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
    }
    const call: SlackCall = { method, args, contentType, at: Date.now() };
    this.calls.push(call);
    switch (method) {
      case "auth.test":
        return ok(res, { ok: true, user_id: this.botUserId, team_id: "T1", bot_id: "B1" });
      case "chat.postMessage":
      case "chat.postEphemeral":
      case "chat.update": {
        const channel = String(args.channel ?? "");
        const error = method === "chat.postEphemeral" ? undefined : this.#errors.shift();
        if (error) {
          call.error = error;
          return ok(res, { ok: false, error });
        }
        if (!CHANNEL.test(channel)) return ok(res, { ok: false, error: "channel_not_found" });
        if (!args.text && !args.blocks) return ok(res, { ok: false, error: "no_text" });
        if (typeof args.text === "string" && args.text.length > 40_000)
          return ok(res, { ok: false, error: "msg_too_long" });
        if (method === "chat.update") return ok(res, { ok: true, channel, ts: args.ts, text: args.text });
        if (method === "chat.postEphemeral") return ok(res, { ok: true, message_ts: this.#nextTs() });
        call.ts = this.#nextTs();
        return ok(res, { ok: true, channel, ts: call.ts, message: { text: args.text } });
      }
      case "files.getUploadURLExternal": {
        // Slack takes this method's arguments as a form or query string, not JSON.
        const filename = typeof args.filename === "string" ? args.filename : url.searchParams.get("filename");
        const length = Number(args.length ?? url.searchParams.get("length"));
        if (!filename || !Number.isInteger(length) || length <= 0)
          return ok(res, { ok: false, error: "invalid_arguments" });
        const fileId = `F${++this.#files}`;
        this.#pendingUploads.set(fileId, { filename, length });
        return ok(res, { ok: true, upload_url: `${this.url}/upload/${fileId}`, file_id: fileId });
      }
      case "files.completeUploadExternal": {
        const files = args.files as { id: string }[] | undefined;
        if (!Array.isArray(files) || files.length === 0)
          return ok(res, { ok: false, error: "invalid_arguments" });
        for (const f of files) {
          if (!this.uploads.some((u) => u.fileId === f.id))
            return ok(res, { ok: false, error: "file_not_found" });
        }
        if (args.channel_id && !CHANNEL.test(String(args.channel_id)))
          return ok(res, { ok: false, error: "channel_not_found" });
        return ok(res, { ok: true, files: files.map((f) => ({ id: f.id })) });
      }
      default:
        return ok(res, { ok: false, error: "unknown_method" });
    }
  }

  #upload(fileId: string, body: Buffer, res: ServerResponse) {
    const pending = this.#pendingUploads.get(fileId);
    if (!pending) return res.writeHead(404).end("unknown upload");
    if (body.length !== pending.length) return res.writeHead(400).end("length mismatch");
    this.#pendingUploads.delete(fileId);
    this.uploads.push({ fileId, bytes: body, filename: pending.filename });
    res.writeHead(200, { "content-type": "text/plain" }).end(`OK - ${body.length}`);
  }

  #nextTs() {
    return `${++this.#ts}.000100`;
  }
}

function ok(res: ServerResponse, body: unknown) {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

/** Headers Slack sends with a request: v0 signature over "v0:<ts>:<body>". */
export function slackSignature(secret: string, body: string, timestampSec = Math.floor(Date.now() / 1000)) {
  const ts = String(timestampSec);
  const sig = createHmac("sha256", secret).update(`v0:${ts}:${body}`).digest("hex");
  return { "x-slack-request-timestamp": ts, "x-slack-signature": `v0=${sig}` };
}

/** An event_callback envelope as the Events API delivers it. */
export function slackEventEnvelope(
  event: Record<string, unknown>,
  o: { eventId?: string; botUserId?: string; eventTime?: number } = {},
) {
  return {
    token: "deprecated-verification-token",
    team_id: "T1",
    api_app_id: "A1",
    event,
    type: "event_callback",
    event_id: o.eventId ?? `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: o.eventTime ?? Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: "T1", user_id: o.botUserId ?? "UBOT", is_bot: true }],
  };
}
