// One node:http listener: routing, body limits (413), timeouts, and errors that never crash the process.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { BodyTooLargeError, readBody } from "./body.ts";
import { sendError } from "./respond.ts";
import type { Router } from "./router.ts";

export interface HttpServerOptions {
  host: string;
  port: number;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  log: Logger;
}

export class HttpServer {
  readonly router: Router;
  readonly #o: HttpServerOptions;
  readonly #server: Server;
  #address: { host: string; port: number } | undefined;

  constructor(router: Router, options: HttpServerOptions) {
    this.router = router;
    this.#o = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) => {
        // The path only: a query string may carry a token.
        options.log.error({ err, path: (req.url ?? "").split("?")[0] }, "request handler failed");
        if (!res.headersSent) sendError(res, 500, "internal error; see the gateway log");
        else res.destroy();
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

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const url = requestUrl(req.url ?? "/");
    if (!url) return sendError(res, 400, `cannot parse the request target ${JSON.stringify(req.url)}`);
    const method = req.method ?? "GET";
    const match = this.router.match(method, url.pathname);
    if (match === undefined) return sendError(res, 404, `no route for ${url.pathname}`);
    if (match === "method-not-allowed")
      return sendError(res, 405, `${method} is not allowed on ${url.pathname}`);
    let body: Buffer = Buffer.alloc(0);
    if (method !== "GET" && method !== "HEAD") {
      const limit = match.bodyLimitBytes ?? this.#o.bodyLimitBytes;
      try {
        body = await readBody(req, limit);
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          res.setHeader("connection", "close");
          return sendError(res, 413, `body too large: the limit is ${err.limit} bytes`);
        }
        throw err;
      }
    }
    await match.handler(req, res, { body, params: match.params, url });
  }
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
