// What `clawgate start` imports with the default configuration (web chat only): no other channel's adapter and
// none of the heavy libraries that only some configurations need (issue 14: footprint). They are imported when
// a channel is configured (src/channels/lazy.ts) or at their first use (sharp, qrcode).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { tempDir } from "../helpers/gateway.ts";

const ROOT = resolve(import.meta.dirname, "../..");

test("the default configuration starts without importing other channels' adapters or heavy libraries", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "clawgate.json"), JSON.stringify({ server: { port: 0 } }));
  const proc = spawn(
    process.execPath,
    ["--import", join(ROOT, "test/helpers/module-log.ts"), join(ROOT, "src/cli/main.ts"), "start"],
    { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  proc.stderr.on("data", (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  await new Promise<void>((res, rej) => {
    proc.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      if (out.includes("clawgate is ready")) res();
    });
    void exited.then((code) => rej(new Error(`exited with ${code} before it was ready:\n${out}${err}`)));
  });
  proc.kill("SIGTERM");
  await exited;
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
