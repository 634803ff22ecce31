// A workspace's memory over HTTP (docs/webchat-api.md, "Memory"): list, save a fact, confirm or dismiss one
// the agent proposed, delete, and semantic recall when memory.embeddings.url is set.
import type { RouteRegistry } from "../gateway/host.ts";
import { sendError, sendJson } from "../http/respond.ts";
import { MAX_MEMORY_CHARS, type MemoryService } from "../memory/service.ts";
import type { Memory, WorkspaceRows } from "../store/workspace-rows.ts";
import { jsonBody, MEMORY_ID, type RouteKit, type WorkspaceHandler } from "./http.ts";

/** What the API shows of a memory: the vector stays in the store. */
export const memoryView = ({ vector, ...m }: Memory) => ({ ...m, hasVector: vector !== null });

export function memoryRoutes(
  routes: RouteRegistry,
  kit: RouteKit,
  rows: WorkspaceRows,
  memory: MemoryService,
) {
  const withMemory = (h: (m: Memory, ...a: Parameters<WorkspaceHandler>) => Promise<void>) =>
    kit.inWorkspace(async (req, res, ctx) => {
      if (!MEMORY_ID.test(ctx.params.mem ?? ""))
        return sendError(res, 400, "memory id must look like mem_ and 16 hex digits (from GET …/memories)");
      const m = await rows.memory(ctx.ws.id, ctx.params.mem!);
      if (!m) return sendError(res, 404, `no memory ${ctx.params.mem} in workspace ${ctx.ws.id}`);
      return h(m, req, res, ctx);
    });

  routes.add(
    "GET",
    "/api/workspaces/:ws/memories",
    kit.inWorkspace(async (_req, res, { ws }) =>
      sendJson(res, 200, { memories: (await rows.memories(ws.id)).map(memoryView) }),
    ),
  );
  routes.add(
    "POST",
    "/api/workspaces/:ws/memories",
    kit.inWorkspace(async (_req, res, { ws, body }) => {
      const json = jsonBody(body, res);
      if (!json) return;
      const text = typeof json.text === "string" ? json.text.trim() : "";
      if (!text || text.length > MAX_MEMORY_CHARS)
        return sendError(res, 400, `text must be a fact of 1-${MAX_MEMORY_CHARS} characters`);
      const m = await memory.add(ws.id, text, { source: "user", state: "saved" });
      sendJson(res, 201, memoryView(m));
    }),
    { bodyLimitBytes: 4096 },
  );
  routes.add(
    "GET",
    "/api/workspaces/:ws/memories/recall",
    kit.inWorkspace(async (_req, res, { ws, url }) => {
      const q = url.searchParams.get("q")?.trim() ?? "";
      if (!q || q.length > 2000)
        return sendError(res, 400, "q must be the text to recall memories for (1-2000 characters)");
      const k = Number(url.searchParams.get("k") ?? "");
      const found = await memory.recall(ws.id, q, Number.isInteger(k) && k > 0 && k <= 50 ? k : undefined);
      sendJson(res, 200, { memories: found.map(memoryView) });
    }),
  );
  routes.add(
    "POST",
    "/api/workspaces/:ws/memories/:mem/confirm",
    withMemory(async (m, _req, res) => {
      await rows.confirmMemory(m.workspaceId, m.id);
      sendJson(res, 200, memoryView((await rows.memory(m.workspaceId, m.id))!));
    }),
  );
  routes.add(
    "DELETE",
    "/api/workspaces/:ws/memories/:mem",
    withMemory(async (m, _req, res) => {
      await rows.deleteMemory(m.workspaceId, m.id);
      sendJson(res, 200, { ok: true });
    }),
  );
}
