// `clawgate plugins list` shows what the config loads and from where; `start` and `config check` load the same
// plugins, so a plugin that cannot load stops both with its name and error, and a plugin channel's settings are
// checked like a built-in channel's.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { clawgate } from "../helpers/cli.ts";
import { tempDir } from "../helpers/gateway.ts";

const EXAMPLE = resolve(import.meta.dirname, "../../examples/plugins/signed-webhook/src/index.ts");
const writeConfig = (dir: string, value: unknown) =>
  writeFileSync(join(dir, "clawgate.json"), JSON.stringify(value, null, 2));

describe("clawgate plugins list", () => {
  test("shows each plugin's name, version, path and channels", async () => {
    const dir = tempDir();
    writeConfig(dir, { plugins: [EXAMPLE] });
    const out = await clawgate(dir, "plugins", "list");
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^signed-webhook 0\.1\.0$/m);
    assert.match(out.stdout, /from: +.*examples\/plugins\/signed-webhook\/src\/index\.ts/);
    assert.match(out.stdout, /channels: signed-webhook/);
    const json = await clawgate(dir, "plugins", "list", "--json");
    assert.deepEqual(JSON.parse(json.stdout), [
      {
        name: "signed-webhook",
        version: "0.1.0",
        spec: EXAMPLE,
        path: EXAMPLE,
        apiVersion: 1,
        channels: ["signed-webhook"],
      },
    ]);
  });

  test("a relative path is shown as written and where it resolved", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "conf"));
    writeFileSync(
      join(dir, "conf/mine.mjs"),
      'export default (sdk) => ({ apiVersion: 1, name: "mine", channels: [{ name: "mine", apiVersion: 1, settings: sdk.z.object({}), multiAccount: false, create: () => ({}) }] });\n',
    );
    writeConfig(join(dir, "conf"), { plugins: ["./mine.mjs"] });
    const out = await clawgate(dir, "--config", "conf/clawgate.json", "plugins", "list");
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^mine$/m);
    assert.match(out.stdout, /from: +\.\/mine\.mjs \(.*conf\/mine\.mjs\)/);
  });

  test("without plugins it says how to add one", async () => {
    const dir = tempDir();
    writeConfig(dir, {});
    const out = await clawgate(dir, "plugins", "list");
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /No plugins configured in .*clawgate\.json\. Add "plugins"/);
  });

  test("`plugins` must be a list of strings", async () => {
    const dir = tempDir();
    writeConfig(dir, { plugins: "./one.ts" });
    const out = await clawgate(dir, "plugins", "list");
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /plugins: expected array/);
  });
});

describe("plugins at startup", () => {
  test("a plugin that fails to load stops `start` with the plugin's name and error", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "broken.mjs"), 'throw new Error("BROKEN_TOKEN is not set");\n');
    writeConfig(dir, { server: { port: 0 }, plugins: [EXAMPLE, "./broken.mjs"] });
    const out = await clawgate(dir, "start");
    assert.equal(out.code, 1);
    assert.match(out.stderr, /plugin "\.\/broken\.mjs" could not be loaded: .*BROKEN_TOKEN is not set/);
    const list = await clawgate(dir, "plugins", "list");
    assert.equal(list.code, 1);
    assert.match(list.stderr, /BROKEN_TOKEN is not set/);
  });

  test("a plugin for another API version stops `start` saying which versions and what to do", async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "v9.mjs"),
      'export default { apiVersion: 9, name: "v9-plugin", channels: [] };\n',
    );
    writeConfig(dir, { server: { port: 0 }, plugins: ["./v9.mjs"] });
    const out = await clawgate(dir, "start");
    assert.equal(out.code, 1);
    assert.match(
      out.stderr,
      /plugin "v9-plugin" \(\.\/v9\.mjs\) could not be loaded: it declares plugin API version 9, but this clawgate offers plugin API version 1: upgrade clawgate/,
    );
  });

  test("config check validates a plugin channel's settings with their key paths, as start does", async () => {
    const dir = tempDir();
    writeConfig(dir, {
      plugins: [EXAMPLE],
      channels: { "signed-webhook": { secret: "short", outboundUrl: "not a url" } },
    });
    const check = await clawgate(dir, "config", "check");
    assert.notEqual(check.code, 0, check.stdout);
    assert.match(check.stderr, /channels\.signed-webhook\.secret: at least 16 characters/);
    assert.match(check.stderr, /channels\.signed-webhook\.outboundUrl/);
    assert.match(check.stderr, /channels\.signed-webhook\.outboundSecret/);
  });

  test("the plugin's env mapping (the seed's OPENCLAW_CONNECTOR_<P>_*) fills its section", async () => {
    const dir = tempDir();
    writeConfig(dir, { plugins: [EXAMPLE], channels: { "signed-webhook": {} } });
    writeFileSync(
      join(dir, ".env"),
      [
        "OPENCLAW_CONNECTOR_SIGNED_WEBHOOK_SECRET=inbound-secret-0123456789",
        "OPENCLAW_CONNECTOR_SIGNED_WEBHOOK_OUTBOUND_URL=http://127.0.0.1:9/replies",
        "OPENCLAW_CONNECTOR_SIGNED_WEBHOOK_OUTBOUND_SECRET=outbound-secret-0123456789",
        "OPENCLAW_CONNECTOR_SIGNED_WEBHOOK_ALLOW_FROM=alice, bob",
      ].join("\n"),
    );
    const check = await clawgate(dir, "config", "check", "--json");
    assert.equal(check.code, 0, check.stderr);
    const section = JSON.parse(check.stdout).config.channels["signed-webhook"];
    assert.equal(section.outboundUrl, "http://127.0.0.1:9/replies");
    assert.deepEqual(section.allowFrom, ["alice", "bob"]);
    assert.deepEqual(section.listen, { host: "127.0.0.1", port: 18120 }, "the seed's own listener");
  });
});
