// Reads what a workspace sends to its agent (prompt, memories, pinned files within the budget) and keeps the
// memories an answer proposes. Shared by the agent wrapper (target.ts) and the budget the API shows.
import type { Config } from "../config/schema.ts";
import type { MemoryService } from "../memory/service.ts";
import { UrlRefusedError } from "../security/url-guard.ts";
import type { Workspace, WorkspaceRows } from "../store/workspace-rows.ts";
import { TargetError } from "../targets/types.ts";
import { assertAgentUrlAllowed } from "./agent-url.ts";
import { type ContextBudget, composeContext, takeProposals } from "./context.ts";

export class WorkspaceContext {
  readonly #rows: WorkspaceRows;
  readonly #memory: MemoryService;
  readonly #config: Config;

  constructor(rows: WorkspaceRows, memory: MemoryService, config: Config) {
    this.#rows = rows;
    this.#memory = memory;
    this.#config = config;
  }

  /** Throws a TargetError the user can read when the workspace's agent URL is not allowed. */
  async checkAgentUrl(url: string): Promise<void> {
    try {
      await assertAgentUrlAllowed(url, this.#config);
    } catch (err) {
      if (err instanceof UrlRefusedError)
        throw new TargetError(`This workspace's agent URL is not allowed: ${err.message}`);
      throw err;
    }
  }

  async workspaceOfSession(sessionKey: string): Promise<Workspace | undefined> {
    const id = await this.#rows.workspaceOf(sessionKey);
    return id ? this.#rows.get(id) : undefined;
  }

  async compose(
    ws: Workspace,
    message: string,
    fallbackPrompt: string | undefined,
  ): Promise<{ prompt: string | undefined; budget: ContextBudget }> {
    const [memories, files] = await Promise.all([
      this.#memory.select(ws.id, message),
      this.#rows.pinnedTexts(ws.id),
    ]);
    return composeContext({
      base: ws.systemPrompt ?? fallbackPrompt,
      memories: memories.map((m) => m.text),
      files,
      budgetTokens: this.#config.workspaces.contextTokens,
    });
  }

  /** Keeps the answer's `[[remember: …]]` lines as proposals; returns the answer as the user should see it. */
  async propose(workspaceId: string, sessionKey: string, answer: string): Promise<string> {
    const { text, facts } = takeProposals(answer);
    if (!facts.length) return answer;
    for (const fact of facts)
      await this.#memory.add(workspaceId, fact, { source: "agent", state: "proposed", sessionKey });
    const notes = facts.map((f) => `Proposed memory: "${f}" (confirm it in the Memory panel)`);
    return `${text}\n\n${notes.join("\n")}`;
  }
}
