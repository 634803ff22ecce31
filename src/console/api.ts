// The web console's server side, registered on the admin API: sign-in sessions, the audit log, the live event
// stream, conversations and config editing. Every route is an admin route (src/http/admin-routes.ts), so the CLI
// can make each call the console makes, with the admin token instead of the cookie.
import type { Env } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import type { ReloadReport } from "../gateway/gateway.ts";
import type { AdminAuth } from "../http/admin-auth.ts";
import type { AdminRouteRegistry } from "../http/admin-routes.ts";
import { sendJson } from "../http/respond.ts";
import type { Store } from "../store/types.ts";
import type { AuditLog } from "./audit.ts";
import { registerConfigRoutes } from "./config-routes.ts";
import { limitParam, registerConversationRoutes } from "./conversations-routes.ts";
import { ConsoleEvents } from "./events.ts";
import { ConsoleSessions } from "./session.ts";
import { registerSessionRoutes } from "./session-routes.ts";

export interface ConsoleApiOptions {
  auth: AdminAuth;
  audit: AuditLog;
  store: Store;
  config: Config;
  env: Env;
  /** What GET /admin/api/status answers. */
  status(): Promise<Record<string, unknown>>;
  reload(next: Config): Promise<ReloadReport>;
  loadConfig?: () => Promise<Config>;
}

/** Registers the console API; returns the event stream, which the gateway closes when it stops. */
export function registerConsoleApi(admin: AdminRouteRegistry, o: ConsoleApiOptions): ConsoleEvents {
  const sessions = new ConsoleSessions(o.store);
  o.auth.useSessions(sessions);
  registerSessionRoutes(admin, { auth: o.auth, sessions, publicBaseUrl: o.config.server.publicBaseUrl });

  admin.add("GET", "/admin/api/audit", async (_req, res, { url }) => {
    const limit = limitParam(url, 50, 500) ?? 50;
    sendJson(res, 200, { ok: true, entries: await o.audit.list(limit) });
  });

  const events = new ConsoleEvents({ status: o.status, store: o.store, audit: o.audit });
  admin.add("GET", "/admin/api/events", events.handle);

  registerConversationRoutes(admin, o.store);
  registerConfigRoutes(admin, o);
  return events;
}
