// The agent a web chat thread in a workspace talks to: the routed agent with the workspace's own URL, model and
// system prompt, the saved memories and the pinned files' text added to that prompt. The agent may propose a
// memory with a line `[[remember: <fact>]]`; the line is taken out of the answer and the fact waits in the
// memory panel for the user to confirm it.
import { OpenAiTarget } from "../targets/openai/target.ts";
import type { Target, TargetRequest, TargetResult } from "../targets/types.ts";
import type { WorkspaceContext } from "./workspace-context.ts";

export class WorkspaceTarget implements Target {
  readonly name = "openai";
  readonly #inner: OpenAiTarget;
  readonly #context: WorkspaceContext;

  constructor(inner: OpenAiTarget, context: WorkspaceContext) {
    this.#inner = inner;
    this.#context = context;
  }

  async run(req: TargetRequest): Promise<TargetResult> {
    const ws = await this.#context.workspaceOfSession(req.sessionKey);
    if (!ws) return this.#inner.run(req);
    const o = this.#inner.options;
    const { prompt } = await this.#context.compose(ws, req.event.text, o.systemPrompt);
    const ownAgent = ws.agentUrl && ws.agentUrl !== o.url;
    // Checked again when used: the name may resolve elsewhere now, or the operator tightened the rules.
    if (ownAgent) await this.#context.checkAgentUrl(ws.agentUrl!);
    const target = new OpenAiTarget({
      ...o,
      url: ws.agentUrl ?? o.url,
      model: ws.model ?? o.model,
      // The gateway's apiKey is for the agent it is configured with, never for a URL a chat user typed.
      apiKey: ownAgent ? undefined : o.apiKey,
      systemPrompt: prompt,
    });
    const result = await target.run(req);
    if (result.kind !== "reply") return result;
    const proposed = await this.#context.propose(ws.id, req.sessionKey, result.text);
    return { ...result, text: proposed };
  }
}
