// Loading outside plugins: where they are found, and every way a plugin can be refused, each with a message
// that names the plugin and says what to do.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { PLUGIN_API_VERSION } from "../../src/plugins/api.ts";
import { loadPlugins, pluginSpecsIn } from "../../src/plugins/loader.ts";
import { tempDir } from "../helpers/gateway.ts";

/** A plugin module's source: `export default <object literal>`. */
const pluginSource = (obj: string) => `export default ${obj};\n`;
// A minimal module of the SDK's shape; its settings object stands in for a zod schema (the loader checks safeParse).
const channel = (name: string) =>
  `{ name: ${JSON.stringify(name)}, apiVersion: 1, multiAccount: false, settings: { safeParse: (v) => ({ success: true, data: v }) }, create: () => ({}) }`;

function write(path: string, text: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

async function refusal(specs: string[], opts: { baseDir: string; cwd: string }, builtin: string[] = []) {
  try {
    await loadPlugins(specs, opts, builtin);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail("expected the plugins to be refused");
}

describe("loadPlugins", () => {
  test("a path is relative to the config file's directory, not the working directory", async () => {
    const configDir = tempDir();
    const cwd = tempDir();
    write(
      join(configDir, "plugins/hello.mjs"),
      pluginSource(`{ apiVersion: 1, name: "hello", channels: [${channel("hello")}] }`),
    );
    const [p] = await loadPlugins(["./plugins/hello.mjs"], { baseDir: configDir, cwd });
    assert.equal(p!.name, "hello");
    assert.equal(p!.path, join(configDir, "plugins/hello.mjs"));
    assert.deepEqual(
      p!.plugin.channels!.map((c) => c.name),
      ["hello"],
    );
    assert.equal(p!.version, undefined, "no package.json: no version");
    write(join(configDir, "with space/x.mjs"), pluginSource(`{ apiVersion: 1, name: "spaced" }`));
    const [q] = await loadPlugins([pathToFileURL(join(configDir, "with space/x.mjs")).href], {
      baseDir: cwd,
      cwd,
    });
    assert.equal(q!.name, "spaced", "a file: URL is a path too");
  });

  test("an npm name comes from the working directory's node_modules, with its package.json version", async () => {
    const cwd = tempDir();
    const pkg = join(cwd, "node_modules/clawgate-plugin-demo");
    write(
      join(pkg, "package.json"),
      JSON.stringify({
        name: "clawgate-plugin-demo",
        version: "2.3.4",
        type: "module",
        exports: { ".": { import: "./index.js" } },
      }),
    );
    write(
      join(pkg, "index.js"),
      `export const plugin = { apiVersion: 1, name: "demo", channels: [${channel("demo")}] };\n`,
    );
    const [p] = await loadPlugins(["clawgate-plugin-demo"], { baseDir: tempDir(), cwd });
    assert.equal(p!.name, "demo");
    assert.equal(p!.version, "2.3.4");
    assert.equal(p!.path, join(pkg, "index.js"));
  });

  test("a factory export is called with the SDK: a published plugin imports nothing from clawgate at run time", async () => {
    const dir = tempDir();
    write(
      join(dir, "factory.mjs"),
      `export default (sdk) => ({ apiVersion: 1, name: "made", channels: [{ name: "made", apiVersion: 1, multiAccount: false, settings: sdk.z.object({}), create: () => ({}), limit: new sdk.RateLimitedError(5).retryAfterMs, schema: sdk.z.string() }] });\n`,
    );
    write(join(dir, "bad-factory.mjs"), `export default () => { throw new Error("needs MADE_TOKEN"); };\n`);
    const [p] = await loadPlugins(["./factory.mjs"], { baseDir: dir, cwd: dir });
    const made = p!.plugin.channels![0] as unknown as {
      limit: number;
      schema: { parse(v: unknown): unknown };
    };
    assert.equal(made.limit, 5, "the SDK's RateLimitedError is the gateway's own class");
    assert.equal(made.schema.parse("x"), "x");
    assert.match(
      await refusal(["./bad-factory.mjs"], { baseDir: dir, cwd: dir }),
      /plugin "\.\/bad-factory\.mjs" could not be loaded: its setup function threw: needs MADE_TOKEN/,
    );
  });

  test("a TypeScript plugin installed under node_modules is refused with what to publish instead", async () => {
    const cwd = tempDir();
    const pkg = join(cwd, "node_modules/clawgate-plugin-ts");
    write(
      join(pkg, "package.json"),
      JSON.stringify({ name: "clawgate-plugin-ts", type: "module", exports: "./index.ts" }),
    );
    write(join(pkg, "index.ts"), "export default { apiVersion: 1 as number, name: 'ts' };\n");
    assert.match(
      await refusal(["clawgate-plugin-ts"], { baseDir: cwd, cwd }),
      /plugin "clawgate-plugin-ts" could not be loaded: .*the plugin must be published as JavaScript/,
    );
  });

  test("an npm name that is not installed says where it looked and how to install it", async () => {
    const cwd = tempDir();
    const msg = await refusal(["clawgate-plugin-missing"], { baseDir: cwd, cwd });
    assert.match(msg, /plugin "clawgate-plugin-missing" could not be loaded/);
    assert.match(msg, /node_modules/);
    assert.match(msg, /npm install clawgate-plugin-missing/);
  });

  test("a missing file names the path it tried", async () => {
    const dir = tempDir();
    const msg = await refusal(["./nope.ts"], { baseDir: dir, cwd: dir });
    assert.match(
      msg,
      /plugin "\.\/nope\.ts" could not be loaded: no file at .*nope\.ts \(paths are relative to the config file\)/,
    );
  });

  test("a plugin that throws while loading is refused with its error", async () => {
    const dir = tempDir();
    write(join(dir, "boom.mjs"), `throw new Error("missing BOOM_TOKEN");\n`);
    const msg = await refusal(["./boom.mjs"], { baseDir: dir, cwd: dir });
    assert.match(
      msg,
      /plugin "\.\/boom\.mjs" could not be loaded: importing .*boom\.mjs failed: missing BOOM_TOKEN/,
    );
  });

  test("a plugin for a newer API names both versions and says to upgrade clawgate", async () => {
    const dir = tempDir();
    const wants = PLUGIN_API_VERSION + 1;
    write(join(dir, "new.mjs"), pluginSource(`{ apiVersion: ${wants}, name: "future", channels: [] }`));
    const msg = await refusal(["./new.mjs"], { baseDir: dir, cwd: dir });
    assert.match(msg, /plugin "future" \(\.\/new\.mjs\) could not be loaded/);
    assert.match(
      msg,
      new RegExp(
        `declares plugin API version ${wants}, but this clawgate offers plugin API version ${PLUGIN_API_VERSION}`,
      ),
    );
    assert.match(msg, /upgrade clawgate/);
  });

  test("a plugin for an older API, or none, is refused with what to do", async () => {
    const dir = tempDir();
    write(join(dir, "old.mjs"), pluginSource(`{ apiVersion: 0, name: "old" }`));
    write(join(dir, "none.mjs"), pluginSource(`{ name: "none" }`));
    assert.match(
      await refusal(["./old.mjs"], { baseDir: dir, cwd: dir }),
      /version 0.*offers plugin API version 1: use a release of the plugin written for this version/,
    );
    assert.match(
      await refusal(["./none.mjs"], { baseDir: dir, cwd: dir }),
      /plugin "none".*declares no apiVersion/,
    );
  });

  test("a module without a plugin export, a name, or a valid channel is refused", async () => {
    const dir = tempDir();
    write(join(dir, "empty.mjs"), `export const something = 1;\n`);
    write(join(dir, "noname.mjs"), pluginSource(`{ apiVersion: 1 }`));
    write(
      join(dir, "badchan.mjs"),
      pluginSource(`{ apiVersion: 1, name: "bad", channels: [{ name: "Bad Name" }] }`),
    );
    write(
      join(dir, "nocreate.mjs"),
      pluginSource(`{ apiVersion: 1, name: "nc", channels: [{ name: "nc" }] }`),
    );
    const opts = { baseDir: dir, cwd: dir };
    assert.match(await refusal(["./empty.mjs"], opts), /has no plugin export: export default/);
    assert.match(await refusal(["./noname.mjs"], opts), /no "name"/);
    assert.match(
      await refusal(["./badchan.mjs"], opts),
      /channels\[0\] needs a "name" of lower-case letters/,
    );
    assert.match(
      await refusal(["./nocreate.mjs"], opts),
      /channel "nc" has no create\(settings, ctx, account\) function/,
    );
    write(
      join(dir, "nosettings.mjs"),
      pluginSource(`{ apiVersion: 1, name: "ns", channels: [{ name: "ns", create: () => ({}) }] }`),
    );
    assert.match(await refusal(["./nosettings.mjs"], opts), /channel "ns" has no "settings" schema/);
  });

  test("a channel module written for another channel API is refused, naming the channel", async () => {
    const dir = tempDir();
    write(
      join(dir, "m.mjs"),
      pluginSource(
        `{ apiVersion: 1, name: "mixed", channels: [{ name: "oldchan", apiVersion: 0, create: () => [] }] }`,
      ),
    );
    assert.match(
      await refusal(["./m.mjs"], { baseDir: dir, cwd: dir }),
      /plugin "mixed".*channel "oldchan" was written for channel API version 0, but this clawgate offers version 1/,
    );
  });

  test("a plugin providing something this API does not offer is refused, not half loaded", async () => {
    const dir = tempDir();
    write(join(dir, "t.mjs"), pluginSource(`{ apiVersion: 1, name: "targets", targets: [] }`));
    assert.match(
      await refusal(["./t.mjs"], { baseDir: dir, cwd: dir }),
      /plugin "targets".*provides "targets", which plugin API version 1 does not offer/,
    );
  });

  test("two modules with one channel name are refused, naming both", async () => {
    const dir = tempDir();
    write(join(dir, "a.mjs"), pluginSource(`{ apiVersion: 1, name: "a", channels: [${channel("chat")}] }`));
    write(join(dir, "b.mjs"), pluginSource(`{ apiVersion: 1, name: "b", channels: [${channel("chat")}] }`));
    write(
      join(dir, "line.mjs"),
      pluginSource(`{ apiVersion: 1, name: "my-line", channels: [${channel("line")}] }`),
    );
    const opts = { baseDir: dir, cwd: dir };
    assert.match(
      await refusal(["./a.mjs", "./b.mjs"], opts),
      /plugin "b" \(\.\/b\.mjs\).*provides channel "chat", which plugin "a" \(\.\/a\.mjs\) provides already/,
    );
    assert.match(
      await refusal(["./line.mjs"], opts, ["webchat", "line"]),
      /plugin "my-line".*provides channel "line", which the built-in channel provides already/,
    );
  });
});

describe("pluginSpecsIn", () => {
  test("reads the list from the raw file, before validation; anything else is left to validation", () => {
    const dir = tempDir();
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    assert.deepEqual(pluginSpecsIn(file("a.json", '{"plugins":["x","./y.ts"],"channels":{"y":{}}}')), [
      "x",
      "./y.ts",
    ]);
    assert.deepEqual(pluginSpecsIn(file("b.json", '{"plugins":"x"}')), []);
    assert.deepEqual(pluginSpecsIn(file("c.json", '{"plugins":[1]}')), []);
    assert.deepEqual(pluginSpecsIn(file("d.json", "not json")), []);
    assert.deepEqual(pluginSpecsIn(undefined), []);
  });
});
