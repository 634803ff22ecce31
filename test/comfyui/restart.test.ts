import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Scheduler } from "../../src/schedules/scheduler.ts";
import { comfyuiExtension } from "../../src/targets/comfyui/extension.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { startTestGateway, tempDir, waitFor } from "../helpers/gateway.ts";
import { startComfyGateway, Thread } from "./helpers.ts";

const fakes: FakeComfyUI[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

describe("ComfyUI across restarts", () => {
  it("a job that finishes while the gateway is down is still delivered, once, after the restart", async () => {
    const comfy = await FakeComfyUI.start({ hold: true, steps: 2, stepMs: 5 });
    fakes.push(comfy);
    const dir = tempDir("clawgate-down-");
    let gw = await startComfyGateway({ servers: [comfy.url], dir });
    let chat = await Thread.open(gw.url, "t");
    await chat.send("/run txt2img a mountain lake");
    const promptId = /job ([0-9a-f-]{36})/.exec(await chat.waitFor(/Queued/))![1]!;
    chat.close();
    await gw.stop();
    await waitFor(() => comfy.connectedClients() === 0, 5000, "the gateway's socket to close");

    comfy.release();
    await waitFor(() => comfy.historyOf(promptId), 5000, "the job to finish with nobody connected");

    gw = await startComfyGateway({ servers: [comfy.url], dir });
    try {
      chat = await Thread.open(gw.url, "t");
      const done = await chat.waitFor(/txt2img finished/);
      assert.match(done, new RegExp(`1 image \\(job ${promptId}\\)`));
      // Later reconcile passes find nothing left to do.
      await new Promise((r) => setTimeout(r, 800));
      assert.equal(await chat.count(/txt2img finished/), 1);
      const outbox = await gw.gateway.store.findOutboundByKey(`comfyui:result:${promptId}:0`);
      assert.ok(outbox, "the result went through the outbox under the job's idempotency key");
      assert.ok(JSON.parse(outbox.payload).message.media?.length === 1);
      chat.close();
    } finally {
      await gw.stop();
    }
  });

  it("a result still being fetched when the gateway stops is delivered: stop waits for it", async () => {
    const comfy = await FakeComfyUI.start({ hold: true, steps: 1, stepMs: 5 });
    fakes.push(comfy);
    const dir = tempDir("clawgate-stopwait-");
    let gw = await startComfyGateway({ servers: [comfy.url], dir, comfyui: { reconcileIntervalMs: 60_000 } });
    let chat = await Thread.open(gw.url, "s");
    await chat.send("/run txt2img a harbour at dusk");
    const promptId = /job ([0-9a-f-]{36})/.exec(await chat.waitFor(/Queued/))![1]!;
    chat.close();
    // The job ends; the gateway hears it and asks for the outputs, and the server stalls before answering.
    let unstall!: () => void;
    comfy.stallGate = new Promise((r) => {
      unstall = r;
    });
    comfy.release();
    await waitFor(
      () => comfy.stalled.includes(`GET /history/${promptId}`),
      5000,
      "the gateway to ask for the finished job's outputs",
    );
    const stopped = gw.stop();
    // The job tracker is stopping once its event socket closes. It used to wait one second at most before
    // letting the store close under a result being fetched; the server answers later than that.
    await waitFor(() => comfy.connectedClients() === 0, 10_000, "the tracker to start stopping");
    await new Promise((r) => setTimeout(r, 1500));
    comfy.stallGate = undefined;
    unstall();
    await stopped;
    // The server is gone for good: the result can only come from what was queued before the stop.
    await comfy.close();
    fakes.splice(fakes.indexOf(comfy), 1);
    gw = await startComfyGateway({ servers: [comfy.url], dir, comfyui: { reconcileIntervalMs: 60_000 } });
    try {
      chat = await Thread.open(gw.url, "s");
      assert.match(await chat.waitFor(/txt2img finished/), new RegExp(`1 image \\(job ${promptId}\\)`));
      chat.close();
    } finally {
      await gw.stop();
    }
  });

  it("after a restart the gateway hears the running job's events again (stable client id): started, progress, result", async () => {
    const comfy = await FakeComfyUI.start({ hold: true, steps: 3, stepMs: 30 });
    fakes.push(comfy);
    const dir = tempDir("clawgate-follow-");
    let gw = await startComfyGateway({ servers: [comfy.url], dir });
    let chat = await Thread.open(gw.url, "f");
    await chat.send("/run txt2img a quiet valley");
    const promptId = /job ([0-9a-f-]{36})/.exec(await chat.waitFor(/Queued/))![1]!;
    chat.close();
    await gw.stop();
    await waitFor(() => comfy.connectedClients() === 0, 5000, "the gateway's socket to close");

    // Long reconcile interval: what arrives must come from ComfyUI's events, not from polling /history.
    gw = await startComfyGateway({ servers: [comfy.url], dir, comfyui: { reconcileIntervalMs: 60_000 } });
    try {
      chat = await Thread.open(gw.url, "f");
      await waitFor(() => comfy.connectedClients() === 1, 5000, "the restarted gateway to connect");
      comfy.release();
      await chat.waitForReply(new RegExp(`txt2img finished.*\\(job ${promptId}\\)`));
      const live = chat.events.filter((e) => e.type === "delta").map((e) => String(e.data.text));
      assert.ok(
        live.some((t) => /txt2img started on comfyui/.test(t)),
        `expected a live "started", saw ${JSON.stringify(live)}`,
      );
      assert.ok(
        live.some((t) => /step 3\/3/.test(t)),
        "progress came through",
      );
      assert.equal(comfy.submissions[0]!.clientId, gw.ext.runtime!.tracker.clientId);
      chat.close();
    } finally {
      await gw.stop();
    }
  });

  it("a schedule fires each tick once, across a restart", async () => {
    const comfy = await FakeComfyUI.start({ steps: 1, stepMs: 5 });
    fakes.push(comfy);
    const dir = tempDir("clawgate-sched-");
    let gw = await startComfyGateway({ servers: [comfy.url], dir });
    let chat = await Thread.open(gw.url, "s");
    await chat.send("/schedule add every=2s txt2img prompt=clockwork");
    const added = await chat.waitFor(/Added schedule/);
    const id = /(sch_[0-9a-f]{12})/.exec(added)![1]!;
    await waitFor(() => comfy.submissions.length === 1, 5000, "the first tick");
    chat.close();
    await gw.stop();

    gw = await startComfyGateway({ servers: [comfy.url], dir });
    try {
      chat = await Thread.open(gw.url, "s");
      await waitFor(() => comfy.submissions.length === 2, 5000, "the next tick after the restart");
      await waitFor(async () => (await chat.count(/txt2img finished/)) === 2, 5000, "both results");
      const ticks = await gw.gateway.store.kvList("schedule-tick", { prefix: `${id}:` });
      assert.equal(ticks.length, 2, "two distinct ticks were claimed");
      assert.equal(comfy.submissions.length, 2);
      for (const s of comfy.submissions) assert.equal(s.prompt["6"]!.inputs.text, "clockwork, high quality");

      // Two schedulers (replicas) racing over the same due tick: one fires it.
      const rt = gw.ext.runtime!;
      const s = (await rt.scheduler.store.get(id))!;
      s.nextRunAt = Date.now() - 10;
      await rt.scheduler.store.put(s);
      let fired = 0;
      const replica = (owner: string) =>
        new Scheduler(gw.gateway.services, {
          owner,
          tickMs: 1000,
          fire: async () => {
            fired++;
            return `p-${owner}`;
          },
          validate: async () => ({}),
        });
      await Promise.all([replica("a").runDue(), replica("b").runDue()]);
      assert.equal(fired, 1);

      await chat.send("/schedules");
      const list = await chat.waitFor(/^Schedules \(1\)/);
      assert.match(list, new RegExp(`${id} — txt2img prompt=clockwork, every 2s → webchat:default:s`));
      assert.match(list, /runs [23]/);
      await chat.send(`/schedule pause ${id}`);
      await chat.waitFor(new RegExp(`Paused schedule ${id}`));
      chat.close();
    } finally {
      await gw.stop();
    }
  });
});

describe("ComfyUI configuration", () => {
  it("without any ComfyUI configuration the extension installs nothing", async () => {
    const ext = comfyuiExtension();
    const gw = await startTestGateway({ extensions: [ext] });
    try {
      assert.equal(ext.runtime, undefined);
      assert.equal(gw.gateway.commands.resolve("/run"), undefined);
    } finally {
      await gw.stop();
    }
  });

  it("comfyui-openclaw: a 403 says which token to fix; the right token runs the job and delivers the image", async () => {
    const comfy = await FakeComfyUI.start({ openclawToken: "server-secret-token", steps: 1, stepMs: 5 });
    fakes.push(comfy);
    let gw = await startComfyGateway({
      servers: [comfy.url],
      comfyui: { target: "comfyui-openclaw" },
      env: { OPENCLAW_CONNECTOR_ADMIN_TOKEN: "wrong-token" },
    });
    try {
      const chat = await Thread.open(gw.url, "oc");
      await chat.send("/run txt2img a cat");
      assert.match(
        await chat.waitFor(/403/),
        /HTTP 403 \(Admin Token\): ComfyUI-OpenClaw rejected the admin token\. Set OPENCLAW_CONNECTOR_ADMIN_TOKEN to the same value as the server's OPENCLAW_ADMIN_TOKEN\./,
      );
      chat.close();
    } finally {
      await gw.stop();
    }
    gw = await startComfyGateway({
      servers: [comfy.url],
      comfyui: { target: "comfyui-openclaw" },
      env: { OPENCLAW_CONNECTOR_ADMIN_TOKEN: "server-secret-token" },
    });
    try {
      const chat = await Thread.open(gw.url, "oc2");
      await chat.send("/run txt2img a cat");
      await chat.waitFor(/Queued txt2img — job/);
      await chat.waitForReply(/txt2img finished/);
      await chat.send("/run txt2img a cat -a");
      assert.match(await chat.waitFor(/Approval Requested/), /ID: apr_fake000001/);
      chat.close();
    } finally {
      await gw.stop();
    }
  });
});
