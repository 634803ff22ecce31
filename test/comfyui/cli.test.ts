import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { it } from "node:test";
import { promisify } from "node:util";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { tempDir } from "../helpers/gateway.ts";
import { startComfyGateway } from "./helpers.ts";

const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
const run = promisify(execFile);

it("clawgate schedules add/list/run/remove talk to the running gateway", async () => {
  const comfy = await FakeComfyUI.start({ steps: 1, stepMs: 5 });
  const gw = await startComfyGateway({ servers: [comfy.url] });
  const cwd = tempDir("clawgate-cli-");
  writeFileSync(
    join(cwd, "clawgate.json"),
    JSON.stringify({ server: { port: Number(new URL(gw.url).port) } }),
  );
  const cli = async (...args: string[]) =>
    (await run(process.execPath, [MAIN, "schedules", ...args], { cwd, env: { PATH: process.env.PATH } }))
      .stdout;
  try {
    const added = await cli(
      "add",
      "-t",
      "txt2img",
      "--to",
      "webchat:default:cli",
      "--cron",
      "0 9 * * *",
      "-i",
      "prompt=sunrise",
      "-i",
      "steps=5",
    );
    const id = /added (sch_[0-9a-f]{12})/.exec(added)![1]!;
    assert.match(added, /txt2img prompt="sunrise" steps="5"\s+cron "0 9 \* \* \*" → webchat:default:cli/);
    assert.match(await cli("list"), new RegExp(`${id} .*next \\d{4}-`));
    assert.match(await cli("run", id), /started job [0-9a-f-]{36}/);
    assert.equal(comfy.submissions.length, 1);
    assert.match(await cli("remove", id), new RegExp(`removed ${id}`));
    assert.equal((await gw.ext.runtime!.scheduler.store.list()).length, 0);
    // Bad input is refused with the reason.
    await assert.rejects(
      cli("add", "-t", "txt2img", "--to", "webchat:default:cli", "--cron", "every day"),
      (err: { stderr: string }) => /not a valid cron expression/.test(err.stderr),
    );
  } finally {
    await gw.stop();
    await comfy.close();
  }
});
