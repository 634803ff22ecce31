// Configuration input a user got wrong: refused with the key path, never silently replaced by defaults, and
// never able to hang or crash the code that prints it.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ConfigError } from "../../src/config/errors.ts";
import { loadConfig, MAX_CONFIG_DEPTH } from "../../src/config/load.ts";
import { MAX_MASK_DEPTH, maskConfig, maskUrlPasswords, TOO_DEEP } from "../../src/config/mask.ts";
import { tempDir } from "../helpers/gateway.ts";

function load(fileText: string, env: Record<string, string> = {}, flags: { port?: number } = {}) {
  const dir = tempDir("clawgate-config-");
  writeFileSync(join(dir, "clawgate.json"), fileText);
  return loadConfig({ cwd: dir, env, ...flags });
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.problems;
  }
  assert.fail("the configuration was accepted");
}

/** Builds [[[…1…]]] `depth` levels deep without recursion. */
function nested(depth: number): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = { k: v };
  return v;
}

describe("sections of the wrong type", () => {
  for (const section of ["server", "agent", "policy", "inbox", "limits", "webchat", "channels", "media"]) {
    for (const bad of ['"oops"', "[]", "5", "null"]) {
      it(`{"${section}": ${bad}} is refused with the key path`, () => {
        const problems = problemsOf(() => load(`{"${section}": ${bad}}`));
        assert.ok(
          problems.some((p) => p.startsWith(`${section}:`)),
          problems.join("\n"),
        );
      });
    }
  }

  it("also when the environment or a flag sets something inside that section", () => {
    const problems = problemsOf(() => load('{"server": "oops"}', { CLAWGATE_PORT: "9000" }, { port: 9001 }));
    assert.ok(
      problems.some((p) => p.startsWith("server:")),
      problems.join("\n"),
    );
    const ch = problemsOf(() => load('{"channels": {"line": 7}}'));
    assert.ok(
      ch.some((p) => p.startsWith("channels.line:")),
      ch.join("\n"),
    );
  });

  it("a missing section still gets its defaults, and flags still apply", () => {
    const { config } = load("{}", {}, { port: 9123 });
    assert.equal(config.server.port, 9123);
    assert.equal(config.server.host, "127.0.0.1");
    assert.equal(config.limits.untrusted.replies, 3);
  });
});

describe("input that used to hang or crash", () => {
  it("a deeply nested value is refused with its path, not a stack overflow", () => {
    const deep = `${'{"k":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    const problems = problemsOf(() => load(`{"channels": {"x": ${deep}}}`));
    assert.match(problems[0]!, /^channels\.x\.k\.k.*: nested deeper than 32 levels/);
    assert.equal(MAX_CONFIG_DEPTH, 32);
  });

  it("maskConfig cuts nesting at its bound instead of overflowing the stack", () => {
    const masked = JSON.stringify(maskConfig({ a: nested(100_000) }));
    assert.ok(masked.includes(TOO_DEEP));
    assert.ok(masked.split('"k"').length - 1 < MAX_MASK_DEPTH);
  });

  it("a long string under an invalid key is reported (masking is linear)", () => {
    const long = "a".repeat(1_000_000);
    const problems = problemsOf(() =>
      load(JSON.stringify({ server: { host: 5 }, dataDir: 7, model: [long] })),
    );
    assert.ok(problems.some((p) => p.startsWith("model")));
    assert.equal(maskUrlPasswords(long), long);
    const many = "a://".repeat(200_000);
    assert.equal(maskUrlPasswords(many), many);
    const colons = `x://${"b:".repeat(300_000)}`;
    assert.equal(maskUrlPasswords(colons), colons);
  });
});

describe("maskConfig properties", () => {
  const oldMask = (s: string) => s.replace(/(\w+:\/\/[^:/@\s]+:)([^@/\s]+)@/g, "$1********@");

  it("masks URL passwords exactly as the old expression did (on inputs small enough for it)", () => {
    const text = fc.string({
      unit: fc.constantFrom("a", "b", "1", ":", "/", "@", " ", "\n", "h", "-", ".", "_"),
      maxLength: 60,
    });
    fc.assert(
      fc.property(text, (s) => {
        assert.equal(maskUrlPasswords(s), oldMask(s));
      }),
      { numRuns: 20_000 },
    );
    assert.equal(
      maskUrlPasswords("postgres://u:hunter2@db/x and https://a:b@c"),
      "postgres://u:********@db/x and https://a:********@c",
    );
  });

  it("never throws on arbitrary JSON, keeps non-secret structure and hides secrets", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.string({ minLength: 1 }), (value, secret) => {
        const masked = maskConfig({ value, apiKey: secret, token: [secret] });
        assert.equal(typeof JSON.stringify(masked), "string");
        assert.notEqual((masked as { apiKey: string }).apiKey, secret.length > 0 ? secret : "x");
      }),
      { numRuns: 2000 },
    );
  });
});
