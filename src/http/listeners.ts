// The gateway's HTTP listeners: the main one with every route, and the channels' own (connector-seed
// `_BIND`/`_PORT` compatibility: a channel configured with its own bind/port also listens there).
import type { Logger } from "pino";
import type { Config } from "../config/schema.ts";
import { hostPolicy } from "./boundary.ts";
import { type Handler, type RouteOptions, Router } from "./router.ts";
import { HttpServer } from "./server.ts";

interface RouteSpec extends RouteOptions {
  method: string;
  path: string;
  handler: Handler;
}

/** What a channel adapter brings to the HTTP layer: its routes and, optionally, its own bind address. */
interface RouteSource {
  listen?: { host: string; port: number };
  routes?(): RouteSpec[];
}

/** The names a listener bound to `bindHost` answers to (Host and Origin rules, src/http/boundary.ts). */
export function hostPolicyFor(config: Config, bindHost: string) {
  return hostPolicy({
    bindHost,
    publicUrls: [config.server.publicBaseUrl, config.security.pairing.publicUrl],
    extra: config.server.allowedHosts,
  });
}

/**
 * A channel's routes are platform webhooks unless they say otherwise (the web chat's do), whatever path the
 * operator gave them.
 */
export function mountChannelRoutes(router: Router, adapter: RouteSource, owner?: string) {
  for (const route of adapter.routes?.() ?? [])
    router.add(route.method, route.path, route.handler, {
      ...route,
      defaultKind: "webhook",
      ...(owner ? { owner } : {}),
    });
}

export function openMainListener(router: Router, config: Config, log: Logger): Promise<HttpServer> {
  const s = config.server;
  return listen(router, s.host, s.port, config, log);
}

/** Opens one listener per distinct channel bind address, with that address's channels' routes, media and /healthz. */
export async function openChannelListeners(
  adapters: Iterable<RouteSource>,
  mediaRoutes: RouteSpec[],
  config: Config,
  log: Logger,
): Promise<HttpServer[]> {
  const byAddress = new Map<string, { host: string; port: number; router: Router }>();
  for (const adapter of adapters) {
    if (!adapter.listen) continue;
    const key = `${adapter.listen.host}:${adapter.listen.port}`;
    let entry = byAddress.get(key);
    if (!entry) {
      entry = { ...adapter.listen, router: new Router() };
      byAddress.set(key, entry);
      // Media links are served here too: the seed's tunnel points at the channel's own port.
      for (const route of mediaRoutes) entry.router.add(route.method, route.path, route.handler, route);
      entry.router.add(
        "GET",
        "/healthz",
        (_req, res) => {
          res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        },
        { kind: "health" },
      );
    }
    mountChannelRoutes(entry.router, adapter);
  }
  const servers: HttpServer[] = [];
  try {
    for (const { host, port, router } of byAddress.values()) {
      const server = await listen(router, host, port, config, log);
      servers.push(server);
      log.info({ url: server.url }, "channel listener open");
    }
  } catch (err) {
    for (const s of servers) await s.close().catch(() => {});
    throw err;
  }
  return servers;
}

async function listen(router: Router, host: string, port: number, config: Config, log: Logger) {
  const server = new HttpServer(router, {
    host,
    port,
    bodyLimitBytes: config.server.bodyLimitBytes,
    requestTimeoutMs: config.server.requestTimeoutMs,
    log,
    hosts: hostPolicyFor(config, host),
  });
  await server.listen();
  return server;
}
