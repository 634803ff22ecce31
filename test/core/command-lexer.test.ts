import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
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

  it("/run@otherbot, x names otherbot too: punctuation after the bot name does not hide it", () => {
    const r = lexCommand("/run@otherbot, x", { botName: "MyComfyBot" });
    assert.deepEqual(r, { kind: "elsewhere", mention: "otherbot" });
    assert.deepEqual(lexCommand("/run@otherbot x", { botName: "MyComfyBot" }), {
      kind: "elsewhere",
      mention: "otherbot",
    });
    const ours = lexCommand("/run@mycomfybot, x", { botName: "MyComfyBot" });
    assert.equal(ours.kind, "command");
    assert.equal((ours as { command: { name: string } }).command.name, "/run");
  });

  it("what is left of '@MyComfyBot /run@otherbot x' once the mention is stripped is not ours", () => {
    assert.equal(lexCommand("/run@otherbot x", { botName: "MyComfyBot" }).kind, "elsewhere");
  });

  it("/run@ (an empty bot name) is addressed to nobody, not to us", () => {
    assert.deepEqual(lexCommand("/run@"), { kind: "elsewhere", mention: "" });
    assert.deepEqual(lexCommand("/run@ x", { botName: "MyComfyBot" }), { kind: "elsewhere", mention: "" });
  });

  it("__proto__ as a setting or flag name is refused with a message, not dropped", () => {
    for (const text of [
      "/run t __proto__=x",
      "/run t __PROTO__=x",
      "/run t --__proto__",
      "/run t --__proto__=1",
    ]) {
      const r = lexCommand(text);
      assert.equal(r.kind, "error", text);
      assert.match((r as { message: string }).message, /"__proto__" cannot be used/);
    }
    const c = cmd("/run t constructor=x");
    assert.equal(Object.hasOwn(c.kv, "constructor"), true);
  });
});

describe("command lexer properties", () => {
  const botName = fc.stringMatching(/^[A-Za-z0-9_]{1,12}$/);
  const cmdName = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);

  it("never throws, and a command's name starts with / and holds no whitespace or @", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `/${s}`),
        ),
        fc.option(botName),
        (text, bot) => {
          const r = lexCommand(text, bot ? { botName: bot } : {});
          if (r.kind === "command") {
            assert.match(r.command.name, /^\/[^\s@]+$/);
            assert.ok(
              !Object.hasOwn(r.command.kv, "__proto__") && !Object.hasOwn(r.command.flags, "__proto__"),
            );
          }
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("a command naming another bot is never ours, whatever follows the name", () => {
    fc.assert(
      fc.property(
        cmdName,
        botName,
        botName,
        fc.constantFrom("", " ", ",", ", x", ":", ".", "!", "\n", "-x", " a=b"),
        (name, ours, other, tail) => {
          fc.pre(ours.toLowerCase() !== other.toLowerCase());
          const r = lexCommand(`/${name}@${other}${tail}`, { botName: ours });
          assert.deepEqual(r, { kind: "elsewhere", mention: other });
          const mine = lexCommand(`/${name}@${ours.toUpperCase()}${tail}`, { botName: ours });
          assert.equal(mine.kind, "command");
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("every key=value and --flag token is kept, or the command is refused", () => {
    const key = fc.oneof(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}$/), fc.constant("__proto__"));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.boolean()), { maxLength: 6 }), (pairs) => {
        const tokens = pairs.map(([k, flag]) => (flag ? `--${k}` : `${k}=v`));
        const r = lexCommand(`/run ${tokens.join(" ")}`);
        if (pairs.some(([k]) => k.toLowerCase() === "__proto__")) return assert.equal(r.kind, "error");
        assert.equal(r.kind, "command");
        const c = (r as Extract<typeof r, { kind: "command" }>).command;
        for (const [k, flag] of pairs) assert.ok(Object.hasOwn(flag ? c.flags : c.kv, k.toLowerCase()), k);
      }),
      { numRuns: 3000 },
    );
  });
});
