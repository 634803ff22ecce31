// The comfyui-openclaw target against the extension's real behaviour (v1.0.7): jobs it starts carry its own
// client id, so they are followed by polling; approved and scheduled jobs are followed like any other; free
// text goes to the input the connector picks; its 404s and 501 are told apart.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { promptKeyFor } from "../../src/targets/comfyui/openclaw-rules.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { type ComfyGateway, startComfyGateway, Thread } from "./helpers.ts";

const TOKEN = "oc-admin-token";

describe("comfyui-openclaw", () => {
  let comfy: FakeComfyUI;
  let gw: ComfyGateway;

  before(async () => {
    comfy = await FakeComfyUI.start({
      openclawToken: TOKEN,
      // Long enough that a 100 ms poll sees the job running even on a busy machine.
      steps: 10,
      stepMs: 80,
      openclawTemplates: [
        { id: "txt2img", allowed_inputs: ["prompt", "steps"] },
        { id: "portrait", allowed_inputs: ["steps", "positive_prompt", "prompt"] },
        { id: "caption-only", allowed_inputs: ["caption"] },
      ],
    });
    gw = await startComfyGateway({
      servers: [comfy.url],
      // A slow safety net: what arrives quickly comes from polling the extension's jobs.
      comfyui: { target: "comfyui-openclaw", reconcileIntervalMs: 60_000, pollIntervalMs: 100 },
      env: { OPENCLAW_CONNECTOR_ADMIN_TOKEN: TOKEN },
    });
  });
  after(async () => {
    await gw.stop();
    await comfy.close();
  });

  const lastFire = () =>
    comfy.openclawRequests.filter((r) => r.key === "POST /openclaw/triggers/fire").at(-1)!.body;

  it("a triggered job (the extension's own client id) shows 'started' and delivers its image promptly", async () => {
    const chat = await Thread.open(gw.url, "oc-run");
    await chat.send("/run txt2img a cat on a roof");
    const promptId = /job ([0-9a-f-]{36})/.exec(await chat.waitFor(/Queued txt2img/))![1]!;
    assert.notEqual(comfy.submissions.at(-1)!.clientId, gw.ext.runtime!.tracker.clientId);
    const done = await chat.waitForReply(new RegExp(`txt2img finished.*\\(job ${promptId}\\)`));
    assert.equal((done.data.media as unknown[]).length, 1);
    const live = chat.events.filter((e) => e.type === "delta").map((e) => String(e.data.text));
    assert.ok(
      live.some((t) => /txt2img started on comfyui/.test(t)),
      `expected a live "started", saw ${JSON.stringify(live)}`,
    );
    chat.close();
  });

  it("free text goes to the input the connector picks, not always `prompt`", async () => {
    const chat = await Thread.open(gw.url, "oc-text");
    await chat.send("/run portrait a woman in red");
    await chat.waitFor(/Queued portrait/);
    assert.deepEqual(lastFire().inputs, { positive_prompt: "a woman in red" });
    await chat.send("/run caption-only a sunset");
    await chat.waitFor(/Queued caption-only/);
    assert.deepEqual(lastFire().inputs, { caption: "a sunset" });
    // An explicit k=v for that input wins over the free text, as in the connector.
    await chat.send("/run txt2img prompt=explicit more words");
    await chat.waitFor(/Queued txt2img.*\n[\s\S]*/);
    assert.deepEqual(lastFire().inputs, { prompt: "explicit" });
    chat.close();
  });

  it("an approved job and /schedule run are followed and deliver their images", async () => {
    const req = await Thread.open(gw.url, "oc-req");
    const adm = await Thread.open(gw.url, "oc-adm");
    await req.send("/run txt2img a fox -a");
    const id = /ID: (apr_\w+)/.exec(await req.waitFor(/Approval Requested/))![1]!;
    await adm.send(`/approve ${id}`);
    const approved = await adm.waitFor(new RegExp(`\\[Approved\\] ${id}`));
    const promptId = /Executed: ([0-9a-f-]{36})/.exec(approved)![1]!;
    // The requester hears the decision and gets the images.
    await req.waitFor(new RegExp(`\\[Approved\\] ${id}\\nExecuted: ${promptId}`));
    const result = await req.waitForReply(new RegExp(`finished.*\\(job ${promptId}\\)`));
    assert.equal((result.data.media as unknown[]).length, 1);

    await adm.send("/schedule run sch_nightly");
    const ran = await adm.waitFor(/Schedule sch_nightly triggered — job/);
    const scheduled = /job ([0-9a-f-]{36})/.exec(ran)![1]!;
    const img = await adm.waitForReply(new RegExp(`finished.*\\(job ${scheduled}\\)`));
    assert.equal((img.data.media as unknown[]).length, 1);
    req.close();
    adm.close();
  });

  it("/reject sends the actor the extension reads and keeps the reason; (Not Executed) says why", async () => {
    const req = await Thread.open(gw.url, "oc-req2");
    const adm = await Thread.open(gw.url, "oc-adm2");
    await req.send("/run txt2img a bear -a");
    const id = /ID: (apr_\w+)/.exec(await req.waitFor(/Approval Requested/))![1]!;
    await adm.send(`/reject ${id} too scary for the kids`);
    assert.match(await adm.waitFor(/\[Rejected\]/), /Reason: too scary for the kids/);
    const sent = comfy.openclawRequests.find((r) => r.key.endsWith(`/${id}/reject`))!;
    assert.deepEqual(sent.body, { actor: "webchat:local" });
    const record = JSON.parse((await gw.gateway.store.kvGet("openclaw-approval-decision", id))!);
    assert.equal(record.reason, "too scary for the kids");
    assert.match(await req.waitFor(new RegExp(`\\[Rejected\\] ${id}`)), /Reason: too scary for the kids/);

    await req.send("/run txt2img a wolf -a");
    const id2 = /ID: (apr_\w+)/.exec(await req.waitFor(new RegExp("ID: (?!" + id + ")apr_")))![1]!;
    comfy.openclawApproveError = "no submit handler for trigger type webhook";
    await adm.send(`/approve ${id2}`);
    assert.match(
      await adm.waitFor(new RegExp(`\\[Approved\\] ${id2}`)),
      /\(Not Executed\): no submit handler for trigger type webhook/,
    );
    req.close();
    adm.close();
  });

  it("a 404 for an unknown template, trace or approval is not 'extension not installed'", async () => {
    const chat = await Thread.open(gw.url, "oc-404");
    await chat.send("/run nosuch a cat");
    const t = await chat.waitFor(/nosuch/);
    assert.match(t, /ComfyUI-OpenClaw has no template "nosuch" \(HTTP 404: template_not_found\)/);
    assert.doesNotMatch(t, /installed/);
    await chat.send("/trace 00000000-dead-beef-0000-000000000000");
    assert.match(await chat.waitFor(/has no trace/), /HTTP 404: trace_not_found/);
    await chat.send("/approve apr_nope");
    assert.match(
      await chat.waitFor(/apr_nope/),
      /has no approval "apr_nope" \(HTTP 404: approval_not_found\)/,
    );
    await chat.send("/schedule run sch_nope");
    assert.match(await chat.waitFor(/sch_nope/), /has no schedule "sch_nope"/);
    chat.close();
  });

  it("/jobs falls back to ComfyUI's own queue when the extension answers 501 jobs_host_contract_unsupported", async () => {
    const chat = await Thread.open(gw.url, "oc-jobs");
    comfy.options.openclawJobsUnsupported = true;
    try {
      await chat.send("/jobs");
      const text = await chat.waitFor(/queue/i);
      assert.match(text, /ComfyUI's own queue/);
      assert.match(text, /Queue — comfyui: \d+ running, \d+ pending/);
      assert.doesNotMatch(text, /HTTP 501/);
    } finally {
      comfy.options.openclawJobsUnsupported = false;
    }
    await chat.send("/jobs");
    await chat.waitFor(/^Jobs/);
    chat.close();
  });
});

describe("comfyui-openclaw without the extension", () => {
  it("a 404 from ComfyUI itself says the extension is not installed", async () => {
    const comfy = await FakeComfyUI.start();
    const gw = await startComfyGateway({
      servers: [comfy.url],
      comfyui: { target: "comfyui-openclaw" },
      env: { OPENCLAW_CONNECTOR_ADMIN_TOKEN: TOKEN },
    });
    try {
      const chat = await Thread.open(gw.url, "none");
      await chat.send("/run txt2img a cat");
      assert.match(
        await chat.waitFor(/404/),
        /\/openclaw\/templates is not there|\/openclaw\/triggers\/fire is not there \(HTTP 404\): is the ComfyUI-OpenClaw extension installed/,
      );
      chat.close();
    } finally {
      await gw.stop();
      await comfy.close();
    }
  });
});

describe("free-text rule (connector)", () => {
  it("the only allowed input, else the first known prompt name, else positive_prompt", () => {
    assert.equal(promptKeyFor(["caption"]), "caption");
    assert.equal(promptKeyFor(["steps", "prompt", "positive_prompt"]), "positive_prompt");
    assert.equal(promptKeyFor(["steps", "text"]), "text");
    assert.equal(promptKeyFor(["steps", "seed"]), "positive_prompt");
    assert.equal(promptKeyFor(undefined), "positive_prompt");
    assert.equal(promptKeyFor("prompt"), "positive_prompt");
    assert.equal(promptKeyFor([]), "positive_prompt");
  });
});
