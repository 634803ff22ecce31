// What `clawgate start` holds once it is ready with the default configuration (web chat only), as a user starts
// it (bin/clawgate.js): no other channel's adapter and none of the heavy libraries that only some configurations
// need (issue 14: footprint). They are imported when a channel is configured (src/channels/lazy.ts) or at their
// first use (sharp, qrcode, Node's own fetch library). And start-up's savings must not outlive the start: once
// ready, V8 optimizes hot code again.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { tempDir } from "../helpers/gateway.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** Starts `clawgate start` with the default config, waits for ready, probes it idle, stops it; returns stderr. */
async function startIdleAndProbe(): Promise<string> {
  const dir = tempDir();
  writeFileSync(join(dir, "clawgate.json"), JSON.stringify({ server: { port: 0 } }));
  const proc = spawn(
    process.execPath,
    [
      "--allow-natives-syntax",
      "--import",
      join(ROOT, "test/helpers/module-log.ts"),
      "--import",
      join(ROOT, "test/helpers/idle-probe.ts"),
      join(ROOT, "bin/clawgate.js"),
      "start",
    ],
    {
      cwd: dir,
      // Without the compile cache: the test does not write to the machine's temp directory.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_DISABLE_COMPILE_CACHE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const failed = exited.then((code) => {
    throw new Error(`exited with ${code} before the probe was done:\n${out}${err}`);
  });
  const probed = new Promise<void>((res) => {
    proc.stderr.on("data", (c: Buffer) => {
      err += c.toString();
      if (err.includes("probe-done\n")) res();
    });
  });
  const ready = new Promise<void>((res) => {
    proc.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("clawgate is ready")) res();
    });
  });
  await Promise.race([ready, failed]);
  proc.kill("SIGUSR2");
  await Promise.race([probed, failed]);
  proc.kill("SIGTERM");
  await exited.catch(() => {});
  return err;
}

const idle = startIdleAndProbe();
void idle.catch(() => {});

test("the default configuration starts without importing other channels' adapters or heavy libraries", async () => {
  const err = await idle;
  const loaded = [...err.matchAll(/^module-loaded (\S+)$/gm)].map((m) =>
    m[1]!.replace(`file://${ROOT}/`, ""),
  );
  assert.ok(loaded.includes("src/channels/webchat/index.ts"), "the web chat's adapter is loaded");
  const heavy = loaded.filter(
    (url) =>
      /^node_modules\/(@discordjs|discord-api-types|undici|sharp|qrcode|pngjs|fast-xml-parser|pg)\//.test(
        url,
      ) || /^src\/channels\/(discord|telegram|slack|line|whatsapp|wechat)\/index\.ts$/.test(url),
  );
  assert.deepEqual(heavy, []);
});

test("an idle default gateway has not loaded Node's fetch library (undici) or HTTP/2", async () => {
  // An `import … from "node:http"` anywhere in the start's graph loads both (src/runtime/node-http.ts says why).
  const err = await idle;
  const builtins = [...err.matchAll(/^builtin-loaded (\S+)$/gm)].map((m) => m[1]!);
  assert.ok(builtins.includes("http"), "node:http is loaded");
  assert.deepEqual(
    builtins.filter((id) => id === "internal/deps/undici/undici" || id === "http2"),
    [],
  );
});

test("an idle default gateway has made no Intl.Segmenter (ICU's break rules load at the first text cut)", async () => {
  const err = await idle;
  assert.match(err, /^segmenters 0$/m);
});

test("once ready, V8 optimizes hot code again (the compilers are off only while starting)", async () => {
  const err = await idle;
  assert.match(err, /^optimizing yes$/m);
});
