// One node:http listener: routing, the boundary rules of each route's kind (Host, Origin, authorization, content
// type: src/http/boundary.ts), body limits (413), timeouts, and errors that never crash the process.
//
// Order for every request, all from the request line and headers before a byte of the body is read:
// Host (421) → Origin (403) → the route's `authorize` (its own 401/403/429) → content type (415) → declared
// size (413). A refusal sent before the body is read carries `Connection: close`, so a client that is still
// sending stops, and nothing it sends is buffered. A client that sent `Expect: 100-continue` is told to go on
// only once all of these have passed.
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { http } from "../runtime/node-http.ts";
import { BodyTooLargeError, ClientGoneError, readBody } from "./body.ts";
import {
  type HostPolicy,
  hasBody,
  hostAllowed,
  hostChecked,
  hostPolicy,
  isJsonContentType,
  jsonOnly,
  originAllowed,
  originChecked,
} from "./boundary.ts";
import { HttpError } from "./errors.ts";
import { sendError } from "./respond.ts";
import type { Handler, Refusal, Router } from "./router.ts";

export interface UpgradeContext {
  params: Record<string, string>;
  url: URL;
  caller?: unknown;
}

/**
 * A route that takes WebSocket upgrades carries this on its handler. It runs only once the upgrade request has
 * passed the route's boundary (Host, Origin, authorize); it completes the handshake itself.
 */
export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  ctx: UpgradeContext,
) => void;

export interface HttpServerOptions {
  host: string;
  port: number;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  log: Logger;
  /** The listener's own names for the Host and Origin rules; default: its bound address and loopback names. */
  hosts?: HostPolicy;
  /** Bytes of request bodies buffered at once across the listener (default BODY_BUDGET_BYTES); beyond, 503. */
  bodyBudgetBytes?: number;
}

/**
 * Request bodies are buffered in memory (the largest route takes 25 MB: a bridge delivery with files), so the
 * listener caps what it buffers at once: each body reserves its declared length (or its route's limit when sent
 * chunked) before it is read, and a request that would go past the budget is answered 503 with Retry-After
 * before its body is read. Authenticated callers only ever get this far.
 */
export const BODY_BUDGET_BYTES = 96 * 1024 * 1024;

export class HttpServer {
  readonly router: Router;
  readonly #o: HttpServerOptions;
  readonly #hosts: HostPolicy;
  readonly #server: Server;
  readonly #bodyBudget: number;
  #buffering = 0;
  #address: { host: string; port: number } | undefined;

  constructor(router: Router, options: HttpServerOptions) {
    this.router = router;
    this.#o = options;
    this.#hosts = options.hosts ?? hostPolicy({ bindHost: options.host });
    this.#bodyBudget = options.bodyBudgetBytes ?? BODY_BUDGET_BYTES;
    const serve = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
      this.#handle(req, res, expectsContinue).catch((err) => {
        // The path only: a query string may carry a token.
        const path = (req.url ?? "").split("?")[0];
        if (err instanceof ClientGoneError) {
          options.log.debug({ path }, "client closed the connection before its request was complete");
          return;
        }
        if (err instanceof HttpError && !res.headersSent) return sendError(res, err.status, err.message);
        options.log.error({ err, path }, "request handler failed");
        if (!res.headersSent) sendError(res, 500, "internal error; see the gateway log");
        else res.destroy();
      });
    };
    this.#server = http.createServer((req, res) => serve(req, res, false));
    // Without this listener Node answers "100 Continue" at once, inviting the body before we know the caller.
    this.#server.on("checkContinue", (req, res) => serve(req, res, true));
    this.#server.on("upgrade", (req, socket: Duplex, head: Buffer) => {
      socket.on("error", () => socket.destroy());
      this.#upgrade(req, socket, head).catch((err) => {
        options.log.error({ err, path: (req.url ?? "").split("?")[0] }, "upgrade handler failed");
        refuseSocket(socket, { ok: false, status: 500, error: "internal error; see the gateway log" });
      });
    });
    this.#server.requestTimeout = options.requestTimeoutMs;
    this.#server.headersTimeout = Math.min(options.requestTimeoutMs, 20_000);
    this.#server.keepAliveTimeout = 5_000;
  }

  get address() {
    if (!this.#address) throw new Error("server is not listening");
    return this.#address;
  }

  get url(): string {
    const { host, port } = this.address;
    return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        if (err.code === "EADDRINUSE") {
          reject(
            new Error(
              `${this.#o.host}:${this.#o.port} is already in use. Stop the other process or choose another port (--port, CLAWGATE_PORT or server.port).`,
            ),
          );
        } else reject(err);
      };
      this.#server.once("error", onError);
      this.#server.listen(this.#o.port, this.#o.host, () => {
        this.#server.off("error", onError);
        const a = this.#server.address();
        if (a && typeof a === "object") this.#address = { host: this.#o.host, port: a.port };
        resolve();
      });
    });
  }

  /** Stops accepting connections and waits for open requests to finish (long-lived streams are cut). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
      setTimeout(() => this.#server.closeAllConnections(), 2000).unref();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) {
    const url = requestUrl(req.url ?? "/");
    if (!url) return sendError(res, 400, `cannot parse the request target ${JSON.stringify(req.url)}`);
    const method = req.method ?? "GET";
    const match = this.router.match(method, url.pathname);
    if (match === undefined)
      return refuseEarly(req, res, { ok: false, status: 404, error: `no route for ${url.pathname}` });
    if (match === "method-not-allowed")
      return refuseEarly(req, res, {
        ok: false,
        status: 405,
        error: `${method} is not allowed on ${url.pathname}`,
      });
    const refusal = this.#boundary(req, method, match);
    if (refusal) return refuseEarly(req, res, refusal);
    let caller: unknown;
    if (match.authorize) {
      const verdict = await match.authorize(req, match.params);
      if (!verdict.ok) return refuseEarly(req, res, verdict);
      caller = verdict.caller;
    }
    // The handler answers `Expect: 100-continue` itself, once it has decided to read the body.
    if (match.streamBody)
      return match.handler(req, res, { body: Buffer.alloc(0), params: match.params, url, caller });
    if (jsonOnly(match.kind, method) && (hasBody(req.headers) || req.headers["content-type"] !== undefined)) {
      const type = req.headers["content-type"];
      if (!isJsonContentType(type))
        return refuseEarly(req, res, {
          ok: false,
          status: 415,
          error: `send JSON with Content-Type: application/json${type ? ` (got ${type.slice(0, 100)})` : ""}`,
        });
    }
    if (method === "GET" || method === "HEAD")
      return match.handler(req, res, { body: Buffer.alloc(0), params: match.params, url, caller });
    const limit = match.bodyLimitBytes ?? this.#o.bodyLimitBytes;
    const declared = Number(req.headers["content-length"]);
    const tooLarge = Number.isFinite(declared) && declared > limit;
    // Held until the handler is done with the body, not just until it is read.
    const reserve = tooLarge || !hasBody(req.headers) ? 0 : Number.isFinite(declared) ? declared : limit;
    if (this.#buffering + reserve > this.#bodyBudget)
      return refuseEarly(req, res, {
        ok: false,
        status: 503,
        error: "the gateway is receiving too much at once; retry shortly",
        headers: { "retry-after": "1" },
      });
    this.#buffering += reserve;
    try {
      let body: Buffer;
      try {
        if (expectsContinue && !tooLarge) res.writeContinue();
        body = await readBody(req, limit);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          res.setHeader("connection", "close");
          return sendError(res, 413, `body too large: the limit is ${err.limit} bytes`);
        }
        throw err;
      }
      await match.handler(req, res, { body, params: match.params, url, caller });
    } finally {
      this.#buffering -= reserve;
    }
  }

  /**
   * A WebSocket upgrade: the same boundary as a request to the route (Host, Origin, authorize), all decided before
   * the 101 — a refused caller gets a plain HTTP answer and a closed socket, never a socket.
   */
  async #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const url = requestUrl(req.url ?? "/");
    const match = url ? this.router.match("GET", url.pathname) : undefined;
    const upgrade =
      match && match !== "method-not-allowed"
        ? (match.handler as Handler & { upgrade?: UpgradeHandler }).upgrade
        : undefined;
    if (!url || !match || match === "method-not-allowed" || !upgrade)
      return refuseSocket(socket, { ok: false, status: 404, error: "no WebSocket here: connect to /api/ws" });
    if (String(req.headers.upgrade).toLowerCase() !== "websocket")
      return refuseSocket(socket, { ok: false, status: 400, error: "only Upgrade: websocket is served" });
    const refusal = this.#boundary(req, "GET", match);
    if (refusal) return refuseSocket(socket, refusal);
    let caller: unknown;
    if (match.authorize) {
      const verdict = await match.authorize(req, match.params);
      if (!verdict.ok) return refuseSocket(socket, verdict);
      caller = verdict.caller;
    }
    if (socket.destroyed) return;
    upgrade(req, socket, head, { params: match.params, url, caller });
  }

  /** The Host and Origin rules of the route's kind; undefined when the request may go on. */
  #boundary(
    req: IncomingMessage,
    method: string,
    match: { kind: Parameters<typeof hostChecked>[0] },
  ): Refusal | undefined {
    const host = req.headers.host;
    if (hostChecked(match.kind) && !hostAllowed(this.#hosts, host))
      return {
        ok: false,
        status: 421,
        error: `this gateway does not answer to the name ${JSON.stringify(host)}: add it to server.allowedHosts (or set server.publicBaseUrl) if it is yours`,
      };
    const origin = req.headers.origin;
    if (originChecked(match.kind) && origin !== undefined && !originAllowed(this.#hosts, origin, host))
      return {
        ok: false,
        status: 403,
        error: `requests from pages of another origin (${origin.slice(0, 200)}) are refused on ${method} ${match.kind} routes`,
      };
    return undefined;
  }
}

/**
 * Sends a refusal before the body was read. A client that announced a body gets `Connection: close`: Node then
 * closes the socket once the answer is out instead of reading (and discarding) the rest of what it sends.
 */
function refuseEarly(req: IncomingMessage, res: ServerResponse, r: Refusal) {
  for (const [k, v] of Object.entries(r.headers ?? {})) res.setHeader(k, v);
  if (hasBody(req.headers)) res.setHeader("connection", "close");
  sendError(res, r.status, r.error, r.extra);
}

/** Answers a refused upgrade with a plain HTTP response on the raw socket, then closes it. */
function refuseSocket(socket: Duplex, r: Refusal) {
  if (socket.destroyed) return;
  const body = JSON.stringify({ ok: false, error: r.error, ...r.extra });
  const headers = {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
    ...r.headers,
  };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  socket.end(
    `HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status] ?? ""}\r\n${lines.join("\r\n")}\r\n\r\n${body}`,
  );
}

/**
 * The request target as a URL. An origin-form target ("/path?query") is appended to a fixed origin rather than
 * resolved against it: resolving would read "//host/admin/…" as host "host" and path "/admin/…", so a path a
 * reverse proxy forwards as harmless would reach another route here, and "//" alone would throw (a 500).
 */
function requestUrl(target: string): URL | undefined {
  try {
    // Anything else is absolute-form (a proxy-style request line) or "*".
    return target.startsWith("/")
      ? new URL(`http://localhost${target}`)
      : new URL(target, "http://localhost");
  } catch {
    return undefined;
  }
}
