// What every workspace and memory route shares: the web chat's bearer-token authorization, id shapes checked
// before any lookup, and the workspace looked up once (404 when it does not exist).
import type { IncomingMessage, ServerResponse } from "node:http";
import { operatorAuthorizer } from "../channels/webchat/access.ts";
import type { Config } from "../config/schema.ts";
import { readJsonObject } from "../http/json-body.ts";
import { sendError } from "../http/respond.ts";
import { declareRoute, type Handler, type HandlerContext } from "../http/router.ts";
import type { Workspace, WorkspaceRows } from "../store/workspace-rows.ts";

export const WORKSPACE_ID = /^ws_[a-f0-9]{16}$/;
export const FILE_ID = /^f_[a-f0-9]{16}$/;
export const MEMORY_ID = /^mem_[a-f0-9]{16}$/;
export const THREAD_ID = /^[A-Za-z0-9_-]{1,64}$/;

export type WorkspaceHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HandlerContext & { ws: Workspace },
) => Promise<void> | void;

export interface RouteKit {
  /** Declared a web chat route with the web chat's authorization. */
  guard(h: Handler): Handler;
  /** Also resolves `:ws` (400 malformed, 404 unknown). */
  inWorkspace(h: WorkspaceHandler): Handler;
}

export function routeKit(config: Config, rows: WorkspaceRows): RouteKit {
  const authorize = operatorAuthorizer(config.webchat.token);
  const guard = (h: Handler): Handler => declareRoute(h, { kind: "webchat", authorize });
  return {
    guard,
    inWorkspace: (h) =>
      guard(async (req, res, ctx) => {
        const id = ctx.params.ws ?? "";
        if (!WORKSPACE_ID.test(id))
          return sendError(
            res,
            400,
            "workspace id must look like ws_ and 16 hex digits (from GET /api/workspaces)",
          );
        const ws = await rows.get(id);
        if (!ws) return sendError(res, 404, `no workspace ${id}: list them with GET /api/workspaces`);
        return h(req, res, { ...ctx, ws });
      }),
  };
}

/** The JSON object body, or a 400 already sent. */
export function jsonBody(body: Buffer, res: ServerResponse): Record<string, unknown> | undefined {
  const json = readJsonObject(body, { emptyIsObject: true });
  if (!json) sendError(res, 400, "body must be a JSON object");
  return json;
}
