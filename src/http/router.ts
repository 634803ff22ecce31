// A small router for node:http: exact paths in a map (the webhook hot path is one lookup), prefix routes in a
// list, `:param` segments for the web chat API. Each route has a kind (src/http/boundary.ts) and may have an
// `authorize` step, both applied by the server before the body is read.
import type { IncomingMessage, ServerResponse } from "node:http";
import { kindForPath, type RouteKind } from "./boundary.ts";

/** A refusal the server sends for a route: status, a reason a person can act on, extra headers and fields. */
export interface Refusal {
  ok: false;
  status: number;
  error: string;
  headers?: Record<string, string>;
  extra?: Record<string, unknown>;
}

export type Authorization = { ok: true; caller?: unknown } | Refusal;

/**
 * Decides from the request line and headers alone whether the caller may go on. It runs before a byte of the
 * body is read, so an unauthenticated caller costs no memory; `caller` reaches the handler as `ctx.caller`.
 */
export type Authorize = (
  req: IncomingMessage,
  params: Record<string, string>,
) => Authorization | Promise<Authorization>;

export interface RouteOptions {
  prefix?: boolean;
  bodyLimitBytes?: number;
  /** Default: declared by the handler (see `declareRoute`), else `defaultKind`, else judged by the path. */
  kind?: RouteKind;
  /** The kind of an undeclared route, instead of judging it by its path (`kindForPath`). */
  defaultKind?: RouteKind;
  authorize?: Authorize;
  /**
   * The handler reads the body itself, as a stream (multipart uploads): the server neither buffers it nor applies
   * the JSON-only rule, so the handler must refuse what a cross-site form could send (src/workspaces/upload.ts).
   */
  streamBody?: boolean;
  /** Who mounted the route (a channel account), so removeOwner() can take its routes down again. */
  owner?: string;
}

export interface HandlerContext {
  body: Buffer;
  params: Record<string, string>;
  url: URL;
  /** What the route's `authorize` step returned for this request. */
  caller?: unknown;
}

export type Handler = ((
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HandlerContext,
) => Promise<void> | void) & { route?: Pick<RouteOptions, "kind" | "authorize"> };

/** A handler that carries its kind and authorization wherever it is registered. */
export function declareRoute(handler: Handler, route: Pick<RouteOptions, "kind" | "authorize">): Handler {
  const wrapped: Handler = (req, res, ctx) => handler(req, res, ctx);
  wrapped.route = { ...handler.route, ...route };
  return wrapped;
}

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
  bodyLimitBytes?: number;
  kind: RouteKind;
  authorize?: Authorize;
  streamBody?: boolean;
}

interface Entry {
  handler: Handler;
  bodyLimitBytes?: number;
  kind: RouteKind;
  authorize?: Authorize;
  streamBody?: boolean;
  owner?: string;
}

interface PatternRoute extends Entry {
  method: string;
  parts: string[];
  prefix: boolean;
}

export class Router {
  readonly #exact = new Map<string, Entry>();
  #patterns: PatternRoute[] = [];

  add(method: string, path: string, handler: Handler, opts: RouteOptions = {}) {
    const entry: Entry = {
      handler,
      bodyLimitBytes: opts.bodyLimitBytes,
      kind: opts.kind ?? handler.route?.kind ?? opts.defaultKind ?? kindForPath(path),
      authorize: opts.authorize ?? handler.route?.authorize,
      ...(opts.streamBody ? { streamBody: true } : {}),
      ...(opts.owner ? { owner: opts.owner } : {}),
    };
    if (!path.includes(":") && !opts.prefix) {
      const key = `${method} ${path}`;
      if (this.#exact.has(key)) throw new Error(`route ${key} is registered twice`);
      this.#exact.set(key, entry);
      return;
    }
    this.#patterns.push({
      ...entry,
      method,
      parts: path.split("/").filter(Boolean),
      prefix: opts.prefix ?? false,
    });
  }

  /** Removes every route `owner` mounted (a channel account that stops or is replaced). */
  removeOwner(owner: string): void {
    for (const [key, entry] of this.#exact) if (entry.owner === owner) this.#exact.delete(key);
    this.#patterns = this.#patterns.filter((r) => r.owner !== owner);
  }

  match(method: string, pathname: string): RouteMatch | "method-not-allowed" | undefined {
    const exact = this.#exact.get(`${method} ${pathname}`);
    if (exact) return { ...exact, params: {} };
    const parts = pathname.split("/").filter(Boolean);
    let pathMatched = false;
    for (const r of this.#patterns) {
      const params = matchParts(r.parts, parts, r.prefix);
      if (!params) continue;
      if (r.method !== method && !(method === "HEAD" && r.method === "GET")) {
        pathMatched = true;
        continue;
      }
      return {
        handler: r.handler,
        params,
        bodyLimitBytes: r.bodyLimitBytes,
        kind: r.kind,
        authorize: r.authorize,
        ...(r.streamBody ? { streamBody: true } : {}),
      };
    }
    if (method === "HEAD") {
      const get = this.#exact.get(`GET ${pathname}`);
      if (get) return { ...get, params: {} };
    }
    for (const key of this.#exact.keys()) if (key.endsWith(` ${pathname}`)) pathMatched = true;
    return pathMatched ? "method-not-allowed" : undefined;
  }
}

function matchParts(pattern: string[], parts: string[], prefix: boolean): Record<string, string> | undefined {
  if (prefix ? parts.length < pattern.length : parts.length !== pattern.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(":")) {
      try {
        params[p.slice(1)] = decodeURIComponent(parts[i]!);
      } catch {
        return undefined;
      }
    } else if (p !== parts[i]) return undefined;
  }
  if (prefix) params["*"] = parts.slice(pattern.length).join("/");
  return params;
}
