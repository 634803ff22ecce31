// What a workspace adds to the agent's system prompt: its own prompt, the memories, then the pinned files'
// text, all within a token budget (estimated at 4 characters a token, as the UI shows it). Pure.
import { cutText } from "../core/text-cut.ts";

export const estimateTokens = (text: string) => Math.ceil(text.length / 4);

export interface ContextInput {
  /** The workspace's system prompt, else the gateway's agent.systemPrompt. */
  base: string | undefined;
  memories: string[];
  files: { name: string; text: string }[];
  budgetTokens: number;
}

export interface ContextBudget {
  budgetTokens: number;
  usedTokens: number;
  /** Per pinned file: tokens it takes, and whether it had to be cut (or left out) to fit. */
  files: { name: string; tokens: number; cut: boolean }[];
  memoryTokens: number;
}

export function composeContext(input: ContextInput): { prompt: string | undefined; budget: ContextBudget } {
  let left = input.budgetTokens * 4;
  const sections: string[] = [];
  const memoryLines: string[] = [];
  for (const m of input.memories) {
    const line = `- ${m}`;
    if (line.length + 1 > left) break;
    memoryLines.push(line);
    left -= line.length + 1;
  }
  if (memoryLines.length) sections.push(`Things the user asked you to remember:\n${memoryLines.join("\n")}`);
  const memoryTokens = estimateTokens(memoryLines.join("\n"));
  const files: ContextBudget["files"] = [];
  for (const f of input.files) {
    const header = `File "${f.name}" (pinned by the user as standing context):\n`;
    const room = Math.max(0, left - header.length);
    const text = f.text.length > room ? cutText(f.text, room) : f.text;
    const cut = text.length < f.text.length;
    if (text.length) {
      sections.push(`${header}${text}${cut ? "\n[… cut to fit the workspace's context budget]" : ""}`);
      left -= header.length + text.length;
    }
    files.push({ name: f.name, tokens: estimateTokens(text), cut });
  }
  const prompt = [input.base, ...sections].filter((s) => s?.trim()).join("\n\n") || undefined;
  return {
    prompt,
    budget: {
      budgetTokens: input.budgetTokens,
      usedTokens: memoryTokens + files.reduce((n, f) => n + f.tokens, 0),
      files,
      memoryTokens,
    },
  };
}

/**
 * Memories the agent proposes: a line `[[remember: <fact>]]` anywhere in its answer. The lines are taken out
 * of the answer; the facts wait for the user to confirm them.
 */
export function takeProposals(answer: string): { text: string; facts: string[] } {
  const facts: string[] = [];
  const text = answer.replace(/^[ \t]*\[\[remember:\s*(.+?)\]\][ \t]*(\r?\n|$)/gim, (_m, fact: string) => {
    const f = fact.trim().slice(0, 500);
    if (f) facts.push(f);
    return "";
  });
  return { text: text.trimEnd(), facts };
}
