// A fake Slack: the Web API methods clawgate calls (auth, JSON and form bodies, {ok:false,error} answers, HTTP 429
// with Retry-After, missing_scope with `needed`) and the external upload URL, recording everything; files shared
// by users, served at url_private (/files-pri/<team>-<id>/<name>) with the bot token, optionally through a
// redirect to a signed CDN URL on another origin; plus request signing as Slack does it. Like Slack, a file
// request whose token is wrong or lacks files:read is answered 200 with the HTML sign-in page, not an error
// status, and one without a token is redirected (302 "Found") to the workspace's sign-in page.
import { createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Limit, RateMeter } from "./rate-meter.ts";
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

/** A file as Slack describes it in a message event's `files` and in files.info. */
export interface SlackFileObject {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  mode: string;
  url_private: string;
  url_private_download: string;
  subtype?: string;
}

interface StoredFile {
  file: SlackFileObject;
  bytes: Buffer;
  /** Content-Type served; Slack serves the file's mimetype. */
  contentType: string;
  /** Served from the CDN under this signature after a redirect, instead of directly. */
  cdnSignature?: string;
}

/** What Slack shows a browser (or a token without files:read) at a url_private. */
const SIGN_IN_PAGE =
  '<!DOCTYPE html><html lang="en-US"><head><title>Slack</title></head><body>Sign in to your workspace</body></html>';

const METHOD_SCOPES: Record<string, string> = {
  "files.info": "files:read",
  "files.getUploadURLExternal": "files:write",
};

export class FakeSlack {
  /** The bot token Slack accepts; change it to make the gateway's token a wrong one. */
  token: string;
  /** The bot token's scopes; drop "files:read" to see what a missing scope does. */
  readonly scopes: Set<string>;
  /** Requests for shared files: path and the Authorization header they carried. */
  readonly fileRequests: { path: string; authorization?: string }[] = [];
  /** Requests the CDN origin got (files added with viaCdn): path with query, and any Authorization. */
  readonly cdnRequests: { path: string; authorization?: string }[] = [];
  /** Drop Content-Type from file answers, as some proxies between Slack and the bot do. */
  stripFileContentType = false;
  cdnUrl = "";
  readonly botUserId: string;
  readonly calls: SlackCall[] = [];
  readonly rateLimited: { method: string; at: number }[] = [];
  readonly uploads: SlackUpload[] = [];
  url = "";
  #pendingUploads = new Map<string, { filename: string; length: number }>();
  #rateLimit = { count: 0, retryAfterSec: 1, methods: [] as string[] };
  /**
   * chat.postMessage per channel (docs.slack.dev/apis/web-api/rate-limits, "special" tier): about one a second,
   * short bursts allowed; Slack does not size them, this fake allows 5. A test may lower it; null turns it off.
   */
  postLimit: Limit | null = { perSec: 1, burst: 5 };
  readonly meter = new RateMeter();
  #errors: string[] = [];
  #ts = 1_700_000_000;
  #files = 0;
  #shared = new Map<string, StoredFile>();
  #server: Server;
  #cdn: Server;

  constructor(o: { token?: string; botUserId?: string; scopes?: string[] } = {}) {
    this.token = o.token ?? "xoxb-test-token";
    this.scopes = new Set(o.scopes ?? ["app_mentions:read", "chat:write", "files:read", "files:write"]);
    this.botUserId = o.botUserId ?? "UBOT";
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    });
    this.#cdn = createServer((req, res) => this.#serveCdn(req, res));
  }

  get apiBase() {
    return `${this.url}/api`;
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    this.cdnUrl = await listenLocal(this.#cdn);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
    await closeServer(this.#cdn);
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

  /**
   * A file a user shared: its file object (for a message's `files`), served at url_private with the bot token.
   * `contentType` overrides what is served (default: the mimetype). `viaCdn`: url_private answers a redirect
   * to a signed URL on another origin (the CDN), which serves the bytes without the token.
   */
  addFile(o: {
    bytes: Buffer;
    name: string;
    mimetype: string;
    filetype?: string;
    subtype?: string;
    contentType?: string;
    viaCdn?: boolean;
  }): SlackFileObject {
    const id = `F0${(++this.#files).toString().padStart(8, "0")}`;
    const path = `/files-pri/T1-${id}/${encodeURIComponent(o.name)}`;
    const file: SlackFileObject = {
      id,
      name: o.name,
      title: o.name,
      mimetype: o.mimetype,
      filetype: o.filetype ?? o.name.split(".").pop() ?? "binary",
      size: o.bytes.length,
      mode: "hosted",
      url_private: `${this.url}${path}`,
      url_private_download: `${this.url}/files-pri/T1-${id}/download/${encodeURIComponent(o.name)}`,
      ...(o.subtype ? { subtype: o.subtype } : {}),
    };
    this.#shared.set(id, {
      file,
      bytes: o.bytes,
      contentType: o.contentType ?? o.mimetype,
      ...(o.viaCdn ? { cdnSignature: randomBytes(8).toString("hex") } : {}),
    });
    return file;
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const body = await readBody(req);
    const url = new URL(req.url ?? "/", this.url);
    if (url.pathname.startsWith("/upload/")) return this.#upload(url.pathname.slice(8), body, res);
    if (url.pathname.startsWith("/files-pri/")) return this.#serveFile(req, url.pathname, res);
    if (url.pathname === "/" && url.searchParams.has("redir")) return this.#signInPage(res);
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
    if (method === "chat.postMessage" && this.postLimit) {
      const { waitMs } = this.meter.hit([[`channel:${args.channel}`, this.postLimit]]);
      if (waitMs > 0) {
        this.rateLimited.push({ method, at: Date.now() });
        res.writeHead(429, {
          "content-type": "application/json",
          "retry-after": String(Math.ceil(waitMs / 1000)),
        });
        return res.end(JSON.stringify({ ok: false, error: "ratelimited" }));
      }
    }
    // Slack lists the token's scopes on every authenticated Web API answer.
    res.setHeader("x-oauth-scopes", [...this.scopes].join(","));
    const call: SlackCall = { method, args, contentType, at: Date.now() };
    this.calls.push(call);
    const needed = METHOD_SCOPES[method];
    if (needed && !this.scopes.has(needed)) {
      call.error = "missing_scope";
      return ok(res, { ok: false, error: "missing_scope", needed, provided: [...this.scopes].join(",") });
    }
    switch (method) {
      case "auth.test":
        return ok(res, {
          ok: true,
          url: "https://fake-team.slack.com/",
          team: "Fake Team",
          user: "fakebot",
          team_id: "T1",
          user_id: this.botUserId,
          bot_id: "B1",
        });
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
      case "files.info": {
        const id = String(args.file ?? url.searchParams.get("file") ?? "");
        const stored = this.#shared.get(id);
        if (!stored) return ok(res, { ok: false, error: "file_not_found" });
        return ok(res, { ok: true, file: stored.file });
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

  /** url_private and url_private_download: the bytes for the bot token with files:read, else the sign-in page. */
  #serveFile(req: IncomingMessage, path: string, res: ServerResponse) {
    const authorization = req.headers.authorization;
    this.fileRequests.push({ path, ...(authorization ? { authorization } : {}) });
    const m = /^\/files-pri\/T1-(F[0-9A-Z]+)\/(?:download\/)?[^/]+$/.exec(path);
    const stored = m ? this.#shared.get(m[1]!) : undefined;
    if (req.method !== "GET" || !stored)
      return res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
    if (!authorization) {
      const to = `${this.url}/?redir=${encodeURIComponent(path)}`;
      res.writeHead(302, { location: to, "content-type": "text/html; charset=utf-8" });
      return res.end(`<a href="${to}">Found</a>.`);
    }
    if (authorization !== `Bearer ${this.token}` || !this.scopes.has("files:read"))
      return this.#signInPage(res);
    if (stored.cdnSignature) {
      res.writeHead(302, { location: `${this.cdnUrl}/${stored.file.id}?sig=${stored.cdnSignature}` });
      return res.end();
    }
    this.#sendFile(stored, res);
  }

  #sendFile(stored: StoredFile, res: ServerResponse) {
    res.writeHead(200, {
      ...(this.stripFileContentType ? {} : { "content-type": stored.contentType }),
      "content-length": stored.bytes.length,
      "content-disposition": `attachment; filename="${stored.file.name}"`,
    });
    res.end(stored.bytes);
  }

  #signInPage(res: ServerResponse) {
    const page = Buffer.from(SIGN_IN_PAGE);
    res.writeHead(200, {
      ...(this.stripFileContentType ? {} : { "content-type": "text/html; charset=utf-8" }),
      "content-length": page.length,
    });
    res.end(page);
  }

  /** The CDN serves a file to whoever has its signed URL; no token needed (and none should arrive). */
  #serveCdn(req: IncomingMessage, res: ServerResponse) {
    const authorization = req.headers.authorization;
    this.cdnRequests.push({ path: req.url ?? "", ...(authorization ? { authorization } : {}) });
    const url = new URL(req.url ?? "/", this.cdnUrl);
    const stored = this.#shared.get(url.pathname.slice(1));
    if (!stored?.cdnSignature || url.searchParams.get("sig") !== stored.cdnSignature)
      return res.writeHead(403, { "content-type": "text/plain" }).end("Forbidden");
    this.#sendFile(stored, res);
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

/**
 * A message with shared files, as the Events API sends it: subtype file_share, the file objects, and text only
 * when the user typed some.
 */
export function slackFileShareEvent(o: {
  files: SlackFileObject[];
  channel: string;
  user: string;
  ts: string;
  text?: string;
  channelType?: string;
}): Record<string, unknown> {
  return {
    type: "message",
    subtype: "file_share",
    channel: o.channel,
    channel_type: o.channelType ?? (o.channel.startsWith("D") ? "im" : "channel"),
    user: o.user,
    text: o.text ?? "",
    ts: o.ts,
    upload: false,
    display_as_bot: false,
    files: o.files,
  };
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
