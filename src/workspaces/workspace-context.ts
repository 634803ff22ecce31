// Reads what a workspace sends to its agent (prompt, memories, pinned files within the budget) and keeps the
// memories an answer proposes. Shared by the agent wrapper (target.ts) and the budget the API shows.
import type { MemoryService } from "../memory/service.ts";
import type { Workspace, WorkspaceRows } from "../store/workspace-rows.ts";
import { type ContextBudget, composeContext, takeProposals } from "./context.ts";

export class WorkspaceContext {
  readonly #rows: WorkspaceRows;
  readonly #memory: MemoryService;
  readonly #budgetTokens: number;

  constructor(rows: WorkspaceRows, memory: MemoryService, budgetTokens: number) {
    this.#rows = rows;
    this.#memory = memory;
    this.#budgetTokens = budgetTokens;
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
      budgetTokens: this.#budgetTokens,
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
