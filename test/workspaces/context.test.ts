// What a workspace adds to the system prompt, within its token budget, and the agent's memory proposals.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composeContext, takeProposals } from "../../src/workspaces/context.ts";

describe("workspace context", () => {
  it("puts the prompt, memories and pinned files together and counts the tokens", () => {
    const { prompt, budget } = composeContext({
      base: "Base.",
      memories: ["likes tea"],
      files: [{ name: "a.txt", text: "x".repeat(40) }],
      budgetTokens: 1000,
    });
    assert.equal(
      prompt,
      `Base.\n\nThings the user asked you to remember:\n- likes tea\n\nFile "a.txt" (pinned by the user as standing context):\n${"x".repeat(40)}`,
    );
    assert.deepEqual(budget, {
      budgetTokens: 1000,
      usedTokens: 3 + 10,
      files: [{ name: "a.txt", tokens: 10, cut: false }],
      memoryTokens: 3,
    });
  });

  it("cuts the file that does not fit and leaves out the ones after it", () => {
    const { prompt, budget } = composeContext({
      base: undefined,
      memories: [],
      files: [
        { name: "big.txt", text: "y".repeat(1000) },
        { name: "next.txt", text: "z" },
      ],
      budgetTokens: 100,
    });
    assert.ok(prompt!.endsWith("[… cut to fit the workspace's context budget]"));
    assert.ok(!prompt!.includes("next.txt"));
    assert.equal(budget.files[0]!.cut, true);
    assert.deepEqual(budget.files[1], { name: "next.txt", tokens: 0, cut: true });
    assert.ok(budget.usedTokens <= 100);
  });

  it("no prompt at all when there is nothing to say", () => {
    assert.equal(
      composeContext({ base: undefined, memories: [], files: [], budgetTokens: 10 }).prompt,
      undefined,
    );
  });

  it("takes [[remember: …]] lines out of an answer", () => {
    assert.deepEqual(takeProposals("Sure.\n[[remember: likes tea]]\n  [[Remember:  lives in Oslo ]]\nBye"), {
      text: "Sure.\nBye",
      facts: ["likes tea", "lives in Oslo"],
    });
    assert.deepEqual(takeProposals("inline [[remember: x]] is not a proposal"), {
      text: "inline [[remember: x]] is not a proposal",
      facts: [],
    });
  });
});
