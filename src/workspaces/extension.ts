// Web chat workspaces, files and memory as one gateway extension: the HTTP routes, the panel's assets, the
// `/remember` command, and a target decorator that gives a thread in a workspace that workspace's agent, system
// prompt, memories and pinned files, without touching the pipeline.
import type { GatewayExtension } from "../gateway/host.ts";
import { MAX_MEMORY_CHARS, MemoryService } from "../memory/service.ts";
import { OpenAiTarget } from "../targets/openai/target.ts";
import { assetRoutes } from "./assets.ts";
import { fileRoutes } from "./file-routes.ts";
import { routeKit } from "./http.ts";
import { memoryRoutes } from "./memory-routes.ts";
import { workspaceRoutes } from "./routes.ts";
import { WorkspaceTarget } from "./target.ts";
import { WorkspaceContext } from "./workspace-context.ts";

export function workspacesExtension(): GatewayExtension {
  return {
    name: "workspaces",
    setup(host) {
      const store = host.services.store;
      const rows = store.workspaces;
      const memory = new MemoryService(rows, host.config, host.log);
      const context = new WorkspaceContext(rows, memory, host.config);
      const basePrompt = () => host.config.agent.systemPrompt;
      const kit = routeKit(host.config, rows);
      workspaceRoutes(host.routes, kit, store, context, host.config);
      fileRoutes(host.routes, kit, store, host.config, context, basePrompt);
      memoryRoutes(host.routes, kit, rows, memory);
      assetRoutes(host.routes);

      // Only the streaming/JSON agent: in async agent mode the decorator that runs first has replaced it.
      host.targetDecorators.add((event, chosen) =>
        event.channel === "webchat" && chosen instanceof OpenAiTarget
          ? new WorkspaceTarget(chosen, context)
          : chosen,
      );

      host.commands.register({
        name: "/remember",
        description: "Save a fact this chat's workspace remembers (it is added to the agent's system prompt)",
        usage: "/remember <fact>",
        defaultClass: "public",
        async handler({ command, sessionKey }) {
          const fact = command.rest.trim();
          if (!fact)
            return { text: "Usage: /remember <fact>, e.g. /remember I prefer metric units", kind: "error" };
          if (fact.length > MAX_MEMORY_CHARS)
            return { text: `A memory is at most ${MAX_MEMORY_CHARS} characters; shorten it.`, kind: "error" };
          const ws = await rows.workspaceOf(sessionKey);
          if (!ws)
            return {
              text: "Memory belongs to a workspace and this chat is in none: open the Workspaces panel and start or move the chat into one.",
              kind: "error",
            };
          await memory.add(ws, fact, { source: "user", state: "saved" });
          return { text: `Remembered: ${fact}` };
        },
      });
    },
  };
}
