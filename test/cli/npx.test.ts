// `npx clawgate …` as a newcomer types it, with the system's own npm and Node first on PATH (on these machines
// an older Node): the output is the command's, with no npm warning in front of it that reads like an error.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

test("npx clawgate version prints the version and no npm warning, whatever Node the system has", async () => {
  // npm test puts node_modules/.bin (Node 24) first; a user's shell does not.
  const path = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((p) => !p.endsWith("node_modules/.bin"))
    .join(delimiter);
  // A fresh npm cache: npx checks the package's engines when it first links it into its cache, once per machine.
  const cache = await mkdtemp(join(tmpdir(), "clawgate-npx-"));
  const { stdout, stderr } = await run("npx", ["clawgate", "version"], {
    cwd: ROOT,
    env: { PATH: path, HOME: process.env.HOME, npm_config_cache: cache },
  }).finally(() => rm(cache, { recursive: true, force: true }));
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  assert.equal(stdout.trim(), pkg.version);
  assert.doesNotMatch(stderr, /EBADENGINE|npm warn/i, `npx printed warnings:\n${stderr}`);
});
