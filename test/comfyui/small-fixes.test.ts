// What a real CPU-only ComfyUI (2024) showed besides the big problems: the seed used, an honest run time,
// readable error text, /status on a CPU server, and /stop on a server without per-prompt interrupt.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { describePromptError } from "../../src/targets/comfyui/client.ts";
import { runSeconds } from "../../src/targets/comfyui/run-time.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { tempDir, waitFor } from "../helpers/gateway.ts";
import { startComfyGateway, Thread } from "./helpers.ts";

const fakes: FakeComfyUI[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

describe("ComfyUI details users noticed", () => {
  it("the seed actually used is in the Queued reply and in the approval request", async () => {
    const comfy = await FakeComfyUI.start({ steps: 1, stepMs: 5 });
    fakes.push(comfy);
    const gw = await startComfyGateway({ servers: [comfy.url] });
    try {
      const chat = await Thread.open(gw.url, "seed");
      await chat.send("/run txt2img a cat");
      const queued = await chat.waitFor(/Queued txt2img/);
      const seed = comfy.submissions[0]!.prompt["3"]!.inputs.seed;
      assert.equal(typeof seed, "number");
      assert.match(queued, new RegExp(`\\nSeed: ${seed}\\n`));
      await chat.send("/run txt2img a dog -a");
      const asked = await chat.waitFor(/Approval Requested/);
      assert.match(asked, /Request: \/run txt2img prompt="a dog" seed=\d+/);
      chat.close();
    } finally {
      await gw.stop();
    }
  });

  it("a CPU-only server: /status says RAM, not VRAM, and shows no 'vunknown'", async () => {
    const comfy = await FakeComfyUI.start({ cpuOnly: true });
    fakes.push(comfy);
    const gw = await startComfyGateway({ servers: [comfy.url] });
    try {
      await waitFor(() => gw.ext.runtime!.pool.servers[0]!.healthy === true, 5000, "a health check");
      const chat = await Thread.open(gw.url, "cpu");
      await chat.send("/status");
      const status = await chat.waitFor(/ComfyUI comfyui/);
      const line = status.split("\n").find((l) => l.startsWith("ComfyUI comfyui"))!;
      assert.match(line, /: up, queue \d+, RAM 4\.7\/7\.5 GB free \(CPU only\)$/);
      assert.doesNotMatch(line, /vunknown|VRAM/);
      chat.close();
    } finally {
      await gw.stop();
    }
  });

  it("/stop <id> on a server without per-prompt interrupt does not stop someone else's running prompt", async () => {
    const comfy = await FakeComfyUI.start({ hold: true, steps: 40, stepMs: 50, interruptByPromptId: false });
    fakes.push(comfy);
    const dir = tempDir("clawgate-stop-");
    let gw = await startComfyGateway({ servers: [comfy.url], dir });
    const chat0 = await Thread.open(gw.url, "stop");
    await chat0.send("/run txt2img a cat");
    const jobId = /job ([0-9a-f-]{36})/.exec(await chat0.waitFor(/Queued/))![1]!;
    chat0.close();
    await gw.stop();
    // Back with another client id and slow checks: the job ends unnoticed, and another user's prompt runs.
    const logFrom = comfy.requestLog.length;
    gw = await startComfyGateway({
      servers: [comfy.url],
      dir,
      comfyui: { clientId: "replica-b", reconcileIntervalMs: 60_000, pollIntervalMs: 60_000 },
    });
    try {
      // Its start-up look at open jobs (history, then queue) finds ours still queued; only then does it end.
      await waitFor(
        () => {
          const log = comfy.requestLog.slice(logFrom);
          const asked = log.indexOf(`GET /history/${jobId}`);
          return asked !== -1 && log.indexOf("GET /queue", asked) !== -1;
        },
        5000,
        "the start-up check",
      );
      comfy.options.steps = 1;
      comfy.release();
      await waitFor(() => comfy.historyOf(jobId), 5000, "our job to finish");
      comfy.options.steps = 40;
      const res = await fetch(`${comfy.url}/prompt`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ prompt: comfy.submissions[0]!.prompt, client_id: "someone-else" }),
      });
      const other = ((await res.json()) as { prompt_id: string }).prompt_id;
      await waitFor(async () => {
        const q = (await (await fetch(`${comfy.url}/queue`)).json()) as { queue_running: unknown[][] };
        return q.queue_running[0]?.[1] === other;
      });
      const chat = await Thread.open(gw.url, "stop");
      await chat.send(`/stop ${jobId}`);
      assert.match(await chat.waitFor(/nothing was interrupted|interrupt sent/), /not running on comfyui/);
      assert.equal(comfy.interrupts.length, 0, "no interrupt reached the server");
      await waitFor(() => comfy.historyOf(other), 10_000, "the other prompt to finish");
      assert.equal((comfy.historyOf(other)!.status as { status_str: string }).status_str, "success");
      chat.close();
    } finally {
      await gw.stop();
    }
  });
});

describe("pure rules", () => {
  it("ComfyUI's message and details read as one sentence", () => {
    assert.equal(
      describePromptError(
        { message: "Cannot execute because node Foo does not exist.", details: "Node ID '#5'" },
        {},
      ),
      "Cannot execute because node Foo does not exist. (Node ID '#5')",
    );
    assert.equal(
      describePromptError({ message: "Prompt has no outputs", details: "" }, {}),
      "Prompt has no outputs",
    );
    assert.equal(describePromptError({ message: "Bad", details: "x" }, {}), "Bad: x");
    assert.equal(describePromptError(undefined, undefined), "unknown error");
  });

  it("run time comes from ComfyUI's timestamps, never from the gateway's downtime", () => {
    const entry = (start?: number, end?: number) => ({
      outputs: {},
      status: {
        messages: [
          ...(start ? [["execution_start", { timestamp: start }] as [string, Record<string, unknown>]] : []),
          ...(end ? [["execution_success", { timestamp: end }] as [string, Record<string, unknown>]] : []),
        ],
      },
    });
    const now = 1_000_000;
    assert.equal(runSeconds(entry(10_000, 44_000), { startedAt: 0, trackerStartedAt: 500_000, now }), 34);
    // No timestamps, and the start was seen before this process began (a restart in between): no guess.
    assert.equal(runSeconds(entry(), { startedAt: 100, trackerStartedAt: 500_000, now }), undefined);
    assert.equal(runSeconds(entry(), { startedAt: 990_000, trackerStartedAt: 500_000, now }), 10);
    assert.equal(runSeconds(undefined, { trackerStartedAt: 0, now }), undefined);
  });
});
