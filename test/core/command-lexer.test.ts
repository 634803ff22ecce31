import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { lexCommand, MAX_COMMAND_LENGTH, tokenize } from "../../src/core/command-lexer.ts";

function cmd(text: string) {
  const r = lexCommand(text);
  assert.equal(r.kind, "command", `expected a command for ${JSON.stringify(text)}`);
  return (r as Extract<typeof r, { kind: "command" }>).command;
}

describe("command lexer", () => {
  it("lower-cases the command and strips a Telegram @botname suffix", () => {
    const c = cmd("/RUN@MyComfyBot portrait");
    assert.equal(c.name, "/run");
    assert.equal(c.mention, "MyComfyBot");
    assert.deepEqual(c.positional, ["portrait"]);
  });

  it("parses the connector's /run example: template, k=v pairs and --approval", () => {
    const c = cmd("/run my-template steps=20 --approval");
    assert.deepEqual(c.positional, ["my-template"]);
    assert.deepEqual(c.kv, { steps: "20" });
    assert.deepEqual(c.flags, { approval: true });
  });

  it("accepts -a as the short approval flag and --key=value flags", () => {
    const c = cmd("/run t -a --timeout=30");
    assert.deepEqual(c.flags, { a: true, timeout: "30" });
  });

  it("splits on double quotes only, so apostrophes in free text are safe", () => {
    const c = cmd(`/run portrait prompt="a cat's hat" don't stop`);
    assert.deepEqual(c.kv, { prompt: "a cat's hat" });
    assert.deepEqual(c.positional, ["portrait", "don't", "stop"]);
  });

  it("keeps quoted text with spaces as one argument and supports escaped quotes", () => {
    assert.deepEqual(tokenize(`"hello world" "say \\"hi\\"" plain`), ["hello world", 'say "hi"', "plain"]);
  });

  it("treats an unterminated quote as text to the end", () => {
    assert.deepEqual(tokenize(`a "b c`), ["a", "b c"]);
  });

  it("keeps the raw rest of the line for free-text mapping", () => {
    const c = cmd("/reject apr_1 not   today, sorry");
    assert.equal(c.rest, "apr_1 not   today, sorry");
    assert.deepEqual(c.positional, ["apr_1", "not", "today,", "sorry"]);
  });

  it("is not a command: plain text, a bare slash, a slash followed by space", () => {
    for (const text of ["hello", "/", "/ run", "  ", "a /run"])
      assert.equal(lexCommand(text).kind, "none", text);
  });

  it(`refuses commands over ${MAX_COMMAND_LENGTH} characters with a clear reason`, () => {
    const r = lexCommand(`/run t ${"x".repeat(MAX_COMMAND_LENGTH)}`);
    assert.equal(r.kind, "error");
    assert.match((r as { message: string }).message, /limit is 4096/);
    assert.equal(lexCommand(`/run ${"x".repeat(MAX_COMMAND_LENGTH - 5)}`).kind, "command");
  });

  it("parses multi-line commands", () => {
    const c = cmd("/run t\nprompt=sunset");
    assert.deepEqual(c.kv, { prompt: "sunset" });
  });
});
