import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { appConfigSchema } from "../../src/channels/registry.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { agentUrlFor, DEFAULT_AGENT_URL, databaseUrl, loadConfig } from "../../src/config/load.ts";
import { maskConfig } from "../../src/config/mask.ts";
import { configJsonSchema } from "../../src/config/write-json-schema.ts";
import { tempDir } from "../helpers/gateway.ts";

function dirWith(files: Record<string, string>) {
  const dir = tempDir("clawgate-config-");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err;
  }
  assert.fail("expected a ConfigError");
}

describe("configuration", () => {
  it("with nothing configured: 127.0.0.1:8787, SQLite under ./data, Ollama's default agent", () => {
    const dir = tempDir();
    const { config, source } = loadConfig({ cwd: dir, env: {} });
    assert.equal(source, undefined);
    assert.equal(config.server.host, "127.0.0.1");
    assert.equal(config.server.port, 8787);
    assert.equal(databaseUrl(config), join(dir, "data", "clawgate.db"));
    assert.equal(agentUrlFor(config, "webchat"), DEFAULT_AGENT_URL);
    assert.equal(DEFAULT_AGENT_URL, "http://127.0.0.1:11434/v1/chat/completions");
  });

  it("accepts the channel-gateway seed's ocg.json as is, found via OCG_CONFIG_PATH", () => {
    const ocg = {
      agentUrl: "http://127.0.0.1:11434/v1/chat/completions",
      model: "gpt-4o",
      apiKey: "",
      verbose: false,
      async: true,
      callbackPort: 3457,
      callbackHost: "0.0.0.0",
      callbackSecret: "s3cret",
      callbackTokenTTL: 1800,
      channels: {
        telegram: { accounts: { default: { enabled: true, botToken: "YOUR_BOT_TOKEN_HERE" } } },
        qqbot: {
          enabled: true,
          agentUrl: "http://10.0.0.5:8080/v1/chat/completions",
          appId: "A",
          clientSecret: "B",
        },
      },
    };
    const dir = dirWith({ "my-ocg.json": JSON.stringify(ocg) });
    const { config, source } = loadConfig({ cwd: dir, env: { OCG_CONFIG_PATH: "my-ocg.json" } });
    assert.equal(source, join(dir, "my-ocg.json"));
    assert.equal(config.model, "gpt-4o");
    assert.equal(config.async, true);
    assert.equal(config.callbackTokenTTL, 1800);
    assert.equal(agentUrlFor(config, "qqbot"), "http://10.0.0.5:8080/v1/chat/completions");
    assert.equal(agentUrlFor(config, "telegram"), "http://127.0.0.1:11434/v1/chat/completions");
  });

  it("agentUrl priority: channel > OCG_AGENT_URL > file > default", () => {
    const dir = dirWith({
      "clawgate.json": JSON.stringify({
        agentUrl: "http://file.example/v1/chat/completions",
        channels: { slack: { agentUrl: "http://channel.example/v1/chat/completions" } },
      }),
    });
    const env = { OCG_AGENT_URL: "http://env.example/v1/chat/completions" };
    const { config } = loadConfig({ cwd: dir, env });
    assert.equal(agentUrlFor(config, "slack"), "http://channel.example/v1/chat/completions");
    assert.equal(agentUrlFor(config, "webchat"), "http://env.example/v1/chat/completions");
    assert.equal(
      agentUrlFor(loadConfig({ cwd: dir, env: {} }).config, "webchat"),
      "http://file.example/v1/chat/completions",
    );
  });

  it("OCG_MODEL, OCG_API_KEY and OCG_VERBOSE override the file", () => {
    const dir = dirWith({ "clawgate.json": JSON.stringify({ model: "a", apiKey: "k1" }) });
    const { config } = loadConfig({ cwd: dir, env: { OCG_MODEL: "b", OCG_API_KEY: "k2", OCG_VERBOSE: "1" } });
    assert.equal(config.model, "b");
    assert.equal(config.apiKey, "k2");
    assert.equal(config.verbose, true);
    assert.equal(config.logLevel, "debug");
  });

  it("listener: flags > CLAWGATE_HOST/PORT > file", () => {
    const dir = dirWith({ "clawgate.json": JSON.stringify({ server: { host: "0.0.0.0", port: 9000 } }) });
    assert.equal(loadConfig({ cwd: dir, env: {} }).config.server.port, 9000);
    const env = { CLAWGATE_HOST: "::1", CLAWGATE_PORT: "9100" };
    assert.deepEqual(
      [loadConfig({ cwd: dir, env }).config.server.host, loadConfig({ cwd: dir, env }).config.server.port],
      ["::1", 9100],
    );
    const flags = loadConfig({ cwd: dir, env, port: 9200, host: "127.0.0.1" }).config.server;
    assert.deepEqual([flags.host, flags.port], ["127.0.0.1", 9200]);
  });

  it("loads a .env next to the config; the process environment wins over it", () => {
    const dir = dirWith({
      "clawgate.json": "{}",
      ".env": "OCG_MODEL=from-dotenv\nOCG_API_KEY=dotenv-key\n",
    });
    const { config } = loadConfig({ cwd: dir, env: { OCG_API_KEY: "process-key" } });
    assert.equal(config.model, "from-dotenv");
    assert.equal(config.apiKey, "process-key");
  });

  it("connector policy env vars: admin users, overrides normalized, allow-from lists", () => {
    const { config } = loadConfig({
      cwd: tempDir(),
      env: {
        OPENCLAW_CONNECTOR_ADMIN_USERS: "1, 2 ,",
        OPENCLAW_COMMAND_OVERRIDES: '{"run":"admin","/STATUS":"public"}',
        OPENCLAW_COMMAND_ALLOW_FROM_ADMIN: "alice_id,bob_id",
      },
    });
    assert.deepEqual(config.policy.adminUsers, ["1", "2"]);
    assert.deepEqual(config.policy.overrides, { "/run": "admin", "/status": "public" });
    assert.deepEqual(config.policy.allowFrom.admin, ["alice_id", "bob_id"]);
    assert.deepEqual(config.policy.allowFrom.run, []);
  });

  it("errors name the key path, what was expected and what was found", () => {
    const dir = dirWith({
      "clawgate.json": JSON.stringify({
        server: { port: "eighty" },
        agent: { historyTurns: -1 },
        agentUrl: "not a url",
      }),
    });
    const err = configError(() => loadConfig({ cwd: dir, env: {} }));
    const text = err.message;
    assert.match(text, /server\.port: expected number.*found the string "eighty"/);
    assert.match(text, /agent\.historyTurns: .*found number -1/);
    assert.match(text, /agentUrl: .*URL.*found the string "not a url"/i);
  });

  it("errors about a secret or a URL never print the secret or the URL's password", () => {
    const dir = dirWith({
      "clawgate.json": JSON.stringify({
        adminToken: "hunter2-short",
        server: { publicBaseUrl: "https://user:pa55word@ not a url" },
      }),
    });
    const text = configError(() => loadConfig({ cwd: dir, env: {} })).message;
    assert.match(text, /adminToken: .*found a secret of 13 characters, not shown/);
    assert.match(text, /server\.publicBaseUrl: /);
    assert.doesNotMatch(text, /hunter2|pa55word/);
  });

  it("bad env values are reported with the variable's name", () => {
    assert.match(
      configError(() => loadConfig({ cwd: tempDir(), env: { CLAWGATE_PORT: "abc" } })).message,
      /CLAWGATE_PORT: expected a whole number/,
    );
    assert.match(
      configError(() => loadConfig({ cwd: tempDir(), env: { OPENCLAW_COMMAND_OVERRIDES: "{run:admin" } }))
        .message,
      /OPENCLAW_COMMAND_OVERRIDES: expected a JSON object/,
    );
  });

  it("invalid JSON and a missing --config file are clear errors", () => {
    assert.match(
      configError(() => loadConfig({ cwd: dirWith({ "clawgate.json": "{ nope" }), env: {} })).message,
      /not valid JSON/,
    );
    assert.match(
      configError(() => loadConfig({ cwd: tempDir(), env: {}, configPath: "missing.json" })).message,
      /config file not found/,
    );
  });

  it("masks secrets for printing, including passwords in URLs", () => {
    const masked = maskConfig({
      apiKey: "sk-1234567890abcdef",
      channels: { telegram: { botToken: "123:ABC" } },
      database: { url: "postgres://user:hunter2@db/x" },
      model: "llama",
    });
    const text = JSON.stringify(masked);
    assert.ok(!text.includes("sk-1234567890abcdef"));
    assert.ok(!text.includes("123:ABC"));
    assert.ok(!text.includes("hunter2"));
    assert.ok(text.includes("llama"));
  });

  it("the JSON Schema types each channel by its module: editors complete channel and account keys", () => {
    type Obj = { properties: Record<string, Obj>; additionalProperties?: Obj | boolean; not?: unknown };
    const schema = configJsonSchema(appConfigSchema()) as Obj;
    const channels = schema.properties.channels!;
    assert.ok(channels.properties.line!.properties.channelSecret, "channels.line.channelSecret");
    assert.ok(channels.properties.whatsapp!.properties.appSecret, "channels.whatsapp.appSecret");
    const telegramAccount = (channels.properties.telegram!.properties.accounts!.additionalProperties as Obj)
      .properties;
    assert.ok(
      telegramAccount.botToken && telegramAccount.enabled,
      "channels.telegram.accounts.<id>.botToken",
    );
    assert.deepEqual((channels.additionalProperties as Obj).not, {}, "an unknown channel key is flagged");
  });

  it("generates a JSON Schema for editors", () => {
    const schema = configJsonSchema(appConfigSchema()) as { properties: Record<string, unknown> };
    for (const key of ["agentUrl", "server", "channels", "policy", "callbackSecret"])
      assert.ok(key in schema.properties, key);
  });
});
