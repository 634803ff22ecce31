// A job's life without I/O: what each /ws event and /history entry means, and what each ending writes and says.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import sharp from "sharp";
import type { HistoryEntry, ImageRef } from "../../src/targets/comfyui/client.ts";
import type { JobRecord } from "../../src/targets/comfyui/job-store.ts";
import {
  ending,
  eventStep,
  historyStep,
  isTerminalEvent,
  neverQueued,
  newJob,
  type Outcome,
  progressText,
  serverLost,
  startedStep,
} from "../../src/targets/comfyui/lifecycle.ts";
import { collectImages } from "../../src/targets/comfyui/outputs.ts";

const job = { promptId: "p-1", template: "txt2img", serverName: "gpu", nodeTypes: { "3": "KSampler" } };
const NOW = 1_700_000_000_000;

describe("job lifecycle: /ws events", () => {
  const cases: { name: string; event: { type: string; data: Record<string, unknown> }; step: unknown }[] = [
    {
      name: "progress of a node",
      event: { type: "progress", data: { prompt_id: "p-1", value: 3, max: 20, node: "3" } },
      step: { kind: "progress", value: 3, max: 20, node: "3" },
    },
    {
      name: "progress without a node",
      event: { type: "progress", data: { value: 1, max: 2 } },
      step: { kind: "progress", value: 1, max: 2, node: undefined },
    },
    { name: "start", event: { type: "execution_start", data: {} }, step: { kind: "started" } },
    { name: "success", event: { type: "execution_success", data: {} }, step: { kind: "success" } },
    {
      name: "older end marker (executing, node null)",
      event: { type: "executing", data: { node: null } },
      step: { kind: "success" },
    },
    {
      name: "executing a node is not an end",
      event: { type: "executing", data: { node: "3" } },
      step: { kind: "ignore" },
    },
    {
      name: "runtime error at a node, with the last traceback lines",
      event: {
        type: "execution_error",
        data: {
          node_id: 3,
          node_type: "KSampler",
          exception_message: " CUDA out of memory \n",
          traceback: ["a\n", "b\n", "c\n", "d\n"],
        },
      },
      step: {
        kind: "ended",
        outcome: {
          kind: "error",
          error: { nodeId: "3", nodeType: "KSampler", message: "CUDA out of memory", traceback: "b\nc\nd" },
        },
      },
    },
    {
      name: "an error that says nothing",
      event: { type: "execution_error", data: {} },
      step: {
        kind: "ended",
        outcome: {
          kind: "error",
          error: { nodeId: undefined, nodeType: undefined, message: "unknown error", traceback: undefined },
        },
      },
    },
    {
      name: "interrupted",
      event: { type: "execution_interrupted", data: {} },
      step: { kind: "ended", outcome: { kind: "stopped", how: "interrupted" } },
    },
    { name: "cached nodes", event: { type: "execution_cached", data: {} }, step: { kind: "ignore" } },
    {
      name: "a type ComfyUI may add later",
      event: { type: "something_new", data: {} },
      step: { kind: "ignore" },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(eventStep(c.event), c.step));

  it("success, error and interrupt end a job; progress, start and executing do not", () => {
    assert.deepEqual(
      [
        "execution_success",
        "execution_error",
        "execution_interrupted",
        "progress",
        "execution_start",
        "executing",
      ].map(isTerminalEvent),
      [true, true, true, false, false, false],
    );
  });
});

describe("job lifecycle: /history entries", () => {
  const err = { node_id: "9", node_type: "SaveImage", exception_message: "disk full" };
  const cases: { name: string; entry: HistoryEntry; step: unknown }[] = [
    {
      name: "success with outputs",
      entry: { outputs: {}, status: { status_str: "success", completed: true, messages: [] } },
      step: { kind: "complete" },
    },
    {
      name: "an entry without a status (older ComfyUI) counts as complete",
      entry: { outputs: {} },
      step: { kind: "complete" },
    },
    {
      name: "runtime error: the node and message come from the error message",
      entry: {
        outputs: {},
        status: { status_str: "error", completed: false, messages: [["execution_error", err]] },
      },
      step: {
        kind: "ended",
        outcome: {
          kind: "error",
          error: { nodeId: "9", nodeType: "SaveImage", message: "disk full", traceback: undefined },
        },
      },
    },
    {
      name: "error status without details",
      entry: { outputs: {}, status: { status_str: "error", completed: false, messages: [] } },
      step: {
        kind: "ended",
        outcome: { kind: "error", error: { message: "ComfyUI reported an error without details" } },
      },
    },
    {
      name: "interrupted",
      entry: {
        outputs: {},
        status: { status_str: "error", completed: false, messages: [["execution_interrupted", {}]] },
      },
      step: { kind: "ended", outcome: { kind: "stopped", how: "interrupted" } },
    },
    {
      name: "not completed yet",
      entry: { outputs: {}, status: { status_str: "running", completed: false, messages: [] } },
      step: { kind: "running" },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(historyStep(c.entry), c.step));
});

describe("job lifecycle: endings", () => {
  const cases: {
    name: string;
    outcome: Outcome;
    state: JobRecord["state"];
    text: RegExp;
    kind?: string;
    trace: string;
    progress: string;
  }[] = [
    {
      name: "done with two images in 34 s",
      outcome: { kind: "done", images: 2, notes: [], seconds: 34 },
      state: "done",
      text: /^✅ txt2img finished in 34 s — 2 images \(job p-1\)$/,
      trace: "2 image(s) delivered",
      progress: "✅ txt2img done",
    },
    {
      name: "done with one image and a note about the rest",
      outcome: { kind: "done", images: 1, notes: ["(3 more image(s) not sent: the limit is 1 per job)"] },
      state: "done",
      text: /^✅ txt2img finished — 1 image \(job p-1\)\n\(3 more image\(s\) not sent/,
      trace: "1 image(s) delivered; (3 more image(s) not sent: the limit is 1 per job)",
      progress: "✅ txt2img done",
    },
    {
      name: "done without images",
      outcome: { kind: "done", images: 0, notes: [] },
      state: "done",
      text: /no images in the output \(job p-1\)$/,
      trace: "0 image(s) delivered",
      progress: "✅ txt2img done",
    },
    {
      name: "runtime error at a node",
      outcome: { kind: "error", error: { nodeId: "3", nodeType: "KSampler", message: "CUDA out of memory" } },
      state: "error",
      text: /^❌ txt2img failed at node 3 \(KSampler\): CUDA out of memory \(job p-1\)$/,
      kind: "error",
      trace: "at node 3 (KSampler) CUDA out of memory",
      progress: "❌ txt2img failed",
    },
    {
      name: "server lost the job (restarted, history cleared)",
      outcome: serverLost("http://gpu:8188"),
      state: "error",
      text: /^❌ txt2img failed: ComfyUI at http:\/\/gpu:8188 no longer knows this job .* Run it again\. \(job p-1\)$/,
      kind: "error",
      trace:
        "ComfyUI at http://gpu:8188 no longer knows this job (was it restarted or its history cleared?). Run it again.",
      progress: "❌ txt2img failed",
    },
    {
      name: "unknown outcome that never reached the server",
      outcome: neverQueued("http://gpu:8188"),
      state: "error",
      text: /did not answer the submit in time and never queued the job\. Run it again\. \(job p-1\)$/,
      kind: "error",
      trace:
        "ComfyUI at http://gpu:8188 did not answer the submit in time and never queued the job. Run it again.",
      progress: "❌ txt2img failed",
    },
    {
      name: "interrupted",
      outcome: { kind: "stopped", how: "interrupted" },
      state: "stopped",
      text: /^⏹ txt2img stopped \(interrupted\) \(job p-1\)$/,
      kind: "notice",
      trace: "interrupted",
      progress: "⏹ txt2img stopped",
    },
    {
      name: "removed from the queue",
      outcome: { kind: "stopped", how: "removed from the queue" },
      state: "stopped",
      text: /stopped \(removed from the queue\)/,
      kind: "notice",
      trace: "removed from the queue",
      progress: "⏹ txt2img stopped",
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const e = ending(job, c.outcome, NOW);
      assert.equal(e.patch.state, c.state);
      assert.equal(e.patch.finishedAt, NOW);
      assert.match(e.message.text, c.text);
      assert.equal(e.message.kind, c.kind);
      assert.equal(e.trace.detail, c.trace);
      assert.equal(e.trace.at, NOW);
      assert.equal(e.progress, c.progress);
      // One message per job and ending, whichever path (socket, reconciler, replica) notices it.
      assert.equal(e.deliveryKind, { done: "result", error: "error", stopped: "stopped" }[c.outcome.kind]);
      if (c.outcome.kind === "error") assert.deepEqual(e.patch.error, c.outcome.error);
      if (c.outcome.kind === "done") assert.equal(e.patch.images, c.outcome.images);
    });

  it("a job starting clears the unconfirmed mark and says so on the progress line", () => {
    const s = startedStep(job, "http://gpu:8188", NOW);
    assert.deepEqual(s.patch, { state: "running", unconfirmed: undefined, startedAt: NOW });
    assert.deepEqual(s.trace, { at: NOW, event: "execution_start", detail: "http://gpu:8188" });
    assert.equal(s.progress, "⏳ txt2img started on gpu");
  });

  it("progress names the node's type when the workflow says it", () => {
    assert.equal(
      progressText(job, 10, 20, "3"),
      "⏳ txt2img on gpu: step 10/20 ▓▓▓▓▓░░░░░ 50% (node 3 KSampler)",
    );
    assert.equal(progressText(job, 0, 0), "⏳ txt2img on gpu: step 0/0 ░░░░░░░░░░ 0%");
  });

  it("a submit with an unknown outcome is recorded as unconfirmed, with why, until the server says", () => {
    const req = {
      template: "txt2img",
      inputs: {},
      deliverTo: { channel: "webchat", account: "default", conversationId: "t1" },
      source: "chat" as const,
    };
    const base = {
      promptId: "p-2",
      server: "http://gpu:8188",
      serverName: "gpu",
      req,
      nodeTypes: {},
      clientId: "c",
    };
    const unknown = newJob({ ...base, note: "no answer in 30 s", unconfirmed: true }, NOW);
    assert.equal(unknown.state, "queued");
    assert.equal(unknown.unconfirmed, true);
    assert.deepEqual(unknown.trace, [
      { at: NOW, event: "submit_unanswered", detail: "to gpu (http://gpu:8188), no answer in 30 s" },
    ]);
    const sent = newJob({ ...base, note: "", unconfirmed: false }, NOW);
    assert.equal("unconfirmed" in sent, false);
    assert.deepEqual(sent.trace[0], { at: NOW, event: "submitted", detail: "to gpu (http://gpu:8188)" });
    assert.equal(sent.sessionKey, "webchat:default:t1");
  });
});

describe("job outputs", () => {
  const ref = (filename: string, type = "output"): ImageRef => ({ filename, subfolder: "", type });
  const noisy = (side: number) =>
    sharp(randomBytes(side * side * 3), {
      raw: { width: side, height: side, channels: 3 },
    })
      .png()
      .toBuffer();

  it("an image over the size limit is sent as a JPEG that fits, not dropped", async () => {
    const big = await noisy(1024);
    const limitMB = 0.05;
    assert.ok(big.length > limitMB * 1048576, "the test image is over the limit");
    const { media, notes } = await collectImages(
      async () => ({ bytes: big, mime: "image/png" }),
      { outputs: { "9": { images: [ref("ComfyUI_00001_.png")] } } },
      { maxImages: 4, maxImageMB: limitMB },
    );
    assert.deepEqual(notes, []);
    assert.equal(media.length, 1);
    assert.equal(media[0]!.mime, "image/jpeg");
    assert.equal(media[0]!.filename, "ComfyUI_00001_.jpg");
    const bytes = Buffer.from(media[0]!.dataBase64!, "base64");
    assert.ok(bytes.length <= limitMB * 1048576);
    assert.equal((await sharp(bytes).metadata()).format, "jpeg");
  });

  it("saved outputs before previews, the per-job limit, and what could not be sent, each said in a note", async () => {
    const small = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#f00" } })
      .png()
      .toBuffer();
    const seen: string[] = [];
    const { media, notes } = await collectImages(
      async (r) => {
        seen.push(r.filename);
        if (r.filename === "gone.png") throw new Error("HTTP 404");
        if (r.filename === "huge.bin")
          return { bytes: Buffer.alloc(2 * 1048576), mime: "application/octet-stream" };
        return { bytes: small, mime: "image/png" };
      },
      {
        outputs: {
          "8": { images: [ref("preview.png", "temp")] },
          "9": { images: [ref("a.png"), ref("gone.png"), ref("huge.bin"), ref("d.png")] },
        },
      },
      { maxImages: 3, maxImageMB: 1 },
    );
    assert.deepEqual(seen, ["a.png", "gone.png", "huge.bin"], "previews are skipped when saved images exist");
    assert.deepEqual(
      media.map((m) => m.filename),
      ["a.png"],
    );
    assert.deepEqual(notes, [
      "(1 more image(s) not sent: the limit is 3 per job)",
      "(gone.png could not be fetched: HTTP 404)",
      "(huge.bin not sent: 2.0 MB is over the 1 MB limit)",
    ]);
  });

  it("previews are sent when the job saved nothing", async () => {
    const small = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#0f0" } })
      .png()
      .toBuffer();
    const { media } = await collectImages(
      async () => ({ bytes: small, mime: "image/png" }),
      { outputs: { "8": { images: [ref("preview.png", "temp")] } } },
      { maxImages: 3, maxImageMB: 1 },
    );
    assert.deepEqual(
      media.map((m) => m.filename),
      ["preview.png"],
    );
  });
});
