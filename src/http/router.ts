// A small router for node:http: exact paths in a map (the webhook hot path is one lookup), prefix routes in a
// list, `:param` segments for the web chat API.
import type { IncomingMessage, ServerResponse } from "node:http";

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
  bodyLimitBytes?: number;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: { body: Buffer; params: Record<string, string>; url: URL },
) => Promise<void> | void;

interface PatternRoute {
  method: string;
  parts: string[];
  prefix: boolean;
  handler: Handler;
  bodyLimitBytes?: number;
}

export class Router {
  readonly #exact = new Map<string, { handler: Handler; bodyLimitBytes?: number }>();
  readonly #patterns: PatternRoute[] = [];

  add(
    method: string,
    path: string,
    handler: Handler,
    opts: { prefix?: boolean; bodyLimitBytes?: number } = {},
  ) {
    if (!path.includes(":") && !opts.prefix) {
      const key = `${method} ${path}`;
      if (this.#exact.has(key)) throw new Error(`route ${key} is registered twice`);
      this.#exact.set(key, { handler, bodyLimitBytes: opts.bodyLimitBytes });
      return;
    }
    this.#patterns.push({
      method,
      parts: path.split("/").filter(Boolean),
      prefix: opts.prefix ?? false,
      handler,
      bodyLimitBytes: opts.bodyLimitBytes,
    });
  }

  match(method: string, pathname: string): RouteMatch | "method-not-allowed" | undefined {
    const exact = this.#exact.get(`${method} ${pathname}`);
    if (exact) return { handler: exact.handler, params: {}, bodyLimitBytes: exact.bodyLimitBytes };
    const parts = pathname.split("/").filter(Boolean);
    let pathMatched = false;
    for (const r of this.#patterns) {
      const params = matchParts(r.parts, parts, r.prefix);
      if (!params) continue;
      if (r.method !== method && !(method === "HEAD" && r.method === "GET")) {
        pathMatched = true;
        continue;
      }
      return { handler: r.handler, params, bodyLimitBytes: r.bodyLimitBytes };
    }
    if (method === "HEAD") {
      const get = this.#exact.get(`GET ${pathname}`);
      if (get) return { handler: get.handler, params: {} };
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
