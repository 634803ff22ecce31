// The admin API for running the gateway without a restart (the CLI's `reload`, `channels start|stop|restart`,
// `stop`, `restart`, and the console use the same calls): every route sits behind the admin boundary.
import { ConfigError } from "../config/errors.ts";
import type { Config } from "../config/schema.ts";
import type { AdminRouteRegistry } from "../http/admin-routes.ts";
import { sendError, sendJson } from "../http/respond.ts";
import { UnknownChannelError } from "./channel-set.ts";
import type { Gateway } from "./gateway.ts";

const ACTIONS = ["start", "stop", "restart"] as const;

export interface LifecycleOptions {
  loadConfig?: () => Promise<Config>;
  lifecycle?: { stop(): void; restart(): void };
}

export function registerLifecycleRoutes(admin: AdminRouteRegistry, gw: Gateway, o: LifecycleOptions) {
  admin.add("POST", "/admin/api/reload", async (_req, res) => {
    if (!o.loadConfig)
      return sendError(res, 501, "this process was not started with a config it can read again");
    let next: Config;
    try {
      next = await o.loadConfig();
    } catch (err) {
      // A config that does not validate changes nothing, and says why.
      const message = err instanceof ConfigError ? err.message : (err as Error).message;
      return sendJson(res, 400, { ok: false, error: `the configuration was not applied: ${message}` });
    }
    try {
      sendJson(res, 200, { ok: true, ...(await gw.reload(next)) });
    } catch (err) {
      sendJson(res, 500, { ok: false, error: `reload failed: ${(err as Error).message}` });
    }
  });

  admin.add("POST", "/admin/api/channels/:channel/:account/:action", async (_req, res, { params }) => {
    const action = params.action as (typeof ACTIONS)[number];
    if (!ACTIONS.includes(action))
      return sendError(res, 404, `unknown action ${params.action}: use start, stop or restart`);
    const { channel = "", account = "" } = params;
    try {
      if (action === "start") await gw.channels.startOne(channel, account);
      else if (action === "stop") await gw.channels.stopOne(channel, account);
      else await gw.channels.restartOne(channel, account);
    } catch (err) {
      if (err instanceof UnknownChannelError) return sendError(res, 404, err.message);
      return sendJson(res, 500, { ok: false, error: `${action} failed: ${(err as Error).message}` });
    }
    sendJson(res, 200, { ok: true, channel, account, state: gw.channels.state(channel, account) });
  });

  for (const what of ["stop", "restart"] as const) {
    admin.add("POST", `/admin/api/${what}`, (_req, res) => {
      if (!o.lifecycle)
        return sendError(
          res,
          501,
          `this process cannot ${what} itself (it was not started by clawgate start)`,
        );
      sendJson(res, 202, { ok: true, [what === "stop" ? "stopping" : "restarting"]: true });
      // After the answer is out: the process is about to close its listeners.
      res.once("finish", () => o.lifecycle?.[what]());
    });
  }
}
