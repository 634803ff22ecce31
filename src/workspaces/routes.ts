// Workspaces over HTTP (docs/webchat-api.md, "Workspaces"): create, list, read with the context budget, change,
// delete with everything in them; and the threads a workspace groups.
import { randomBytes } from "node:crypto";
import { sessionKey, WEBCHAT_ACCOUNT } from "../channels/webchat/api.ts";
import type { Config } from "../config/schema.ts";
import type { RouteRegistry } from "../gateway/host.ts";
import { sendError, sendJson } from "../http/respond.ts";
import { UrlRefusedError } from "../security/url-guard.ts";
import type { Store } from "../store/types.ts";
import type { Workspace } from "../store/workspace-rows.ts";
import { assertAgentUrlAllowed } from "./agent-url.ts";
import { readWorkspaceFields } from "./fields.ts";
import { jsonBody, type RouteKit, THREAD_ID } from "./http.ts";
import type { WorkspaceContext } from "./workspace-context.ts";

const PREFIX = `webchat:${WEBCHAT_ACCOUNT}:`;

export function workspaceRoutes(
  routes: RouteRegistry,
  kit: RouteKit,
  store: Store,
  context: WorkspaceContext,
  config: Config,
) {
  const basePrompt = () => config.agent.systemPrompt;
  const rows = store.workspaces;
  /** A reason to refuse the workspace's agent URL, or undefined when it may be used. */
  const refusal = async (url: string | null) => {
    if (!url) return undefined;
    try {
      await assertAgentUrlAllowed(url, config);
      return undefined;
    } catch (err) {
      if (err instanceof UrlRefusedError) return err.message;
      throw err;
    }
  };
  const show = async (ws: Workspace) => ({
    ...ws,
    budget: (await context.compose(ws, "", basePrompt())).budget,
  });

  routes.add(
    "GET",
    "/api/workspaces",
    kit.guard(async (_req, res) => sendJson(res, 200, { workspaces: await rows.list() })),
  );
  routes.add(
    "POST",
    "/api/workspaces",
    kit.guard(async (_req, res, { body }) => {
      const json = jsonBody(body, res);
      if (!json) return;
      const fields = readWorkspaceFields(json);
      if ("error" in fields) return sendError(res, 400, fields.error);
      const refused = await refusal(fields.agentUrl);
      if (refused) return sendError(res, 400, `agentUrl: ${refused}`);
      const ws = await rows.create(`ws_${randomBytes(8).toString("hex")}`, fields);
      sendJson(res, 201, ws);
    }),
    { bodyLimitBytes: 64 * 1024 },
  );
  routes.add(
    "GET",
    "/api/workspaces/:ws",
    kit.inWorkspace(async (_req, res, { ws }) => sendJson(res, 200, await show(ws))),
  );
  routes.add(
    "PATCH",
    "/api/workspaces/:ws",
    kit.inWorkspace(async (_req, res, { ws, body }) => {
      const json = jsonBody(body, res);
      if (!json) return;
      const fields = readWorkspaceFields(json, ws);
      if ("error" in fields) return sendError(res, 400, fields.error);
      const refused = fields.agentUrl !== ws.agentUrl ? await refusal(fields.agentUrl) : undefined;
      if (refused) return sendError(res, 400, `agentUrl: ${refused}`);
      await rows.update(ws.id, fields);
      sendJson(res, 200, await show((await rows.get(ws.id))!));
    }),
    { bodyLimitBytes: 64 * 1024 },
  );
  routes.add(
    "DELETE",
    "/api/workspaces/:ws",
    kit.inWorkspace(async (_req, res, { ws }) => {
      // Each thread with its history and files first; the workspace row goes last, so a delete cut short can be
      // finished by deleting again.
      const threads = await rows.threads(ws.id);
      for (const key of threads) await store.deleteSession(key);
      await rows.delete(ws.id);
      sendJson(res, 200, { ok: true, deletedThreads: threads.length });
    }),
  );

  routes.add(
    "GET",
    "/api/workspaces/:ws/threads",
    kit.inWorkspace(async (_req, res, { ws }) => {
      const keys = new Set(await rows.threads(ws.id));
      const sessions = await store.listSessions({ prefix: PREFIX, limit: 1000 });
      sendJson(res, 200, {
        threads: sessions
          .filter((s) => keys.has(s.key))
          .map((s) => ({
            id: s.key.slice(PREFIX.length),
            title: s.title,
            lastMessage: s.lastMessage,
            updatedAt: s.updatedAt,
            createdAt: s.createdAt,
          })),
      });
    }),
  );
  routes.add(
    "POST",
    "/api/workspaces/:ws/threads",
    kit.inWorkspace(async (_req, res, { ws, body }) => {
      const json = jsonBody(body, res);
      if (!json) return;
      const title = typeof json.title === "string" ? json.title.slice(0, 200) : undefined;
      const id = randomBytes(8).toString("hex");
      const s = await store.touchSession(sessionKey(id), title);
      await rows.assignThread(sessionKey(id), ws.id);
      sendJson(res, 201, { id, title: s.title, createdAt: s.createdAt, workspaceId: ws.id });
    }),
    { bodyLimitBytes: 4096 },
  );
  // Moves an existing thread into this workspace (its next message uses the workspace's agent and context).
  routes.add(
    "PUT",
    "/api/workspaces/:ws/threads/:id",
    kit.inWorkspace(async (_req, res, { ws, params }) => {
      if (!THREAD_ID.test(params.id ?? ""))
        return sendError(res, 400, "thread id must be 1-64 of A-Z a-z 0-9 _ -");
      if (!(await store.getSession(sessionKey(params.id!))))
        return sendError(res, 404, `no thread ${params.id}: create one with POST /api/threads`);
      await rows.assignThread(sessionKey(params.id!), ws.id);
      sendJson(res, 200, { ok: true, id: params.id, workspaceId: ws.id });
    }),
  );
  routes.add(
    "GET",
    "/api/threads/:id/workspace",
    kit.guard(async (_req, res, { params }) => {
      if (!THREAD_ID.test(params.id ?? ""))
        return sendError(res, 400, "thread id must be 1-64 of A-Z a-z 0-9 _ -");
      sendJson(res, 200, { workspaceId: (await rows.workspaceOf(sessionKey(params.id!))) ?? null });
    }),
  );
}
