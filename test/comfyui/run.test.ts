import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { waitFor } from "../helpers/gateway.ts";
import { type ComfyGateway, startComfyGateway, Thread } from "./helpers.ts";

describe("ComfyUI from the web chat", () => {
  let comfy: FakeComfyUI;
  let gw: ComfyGateway;

  before(async () => {
    comfy = await FakeComfyUI.start({ steps: 4, stepMs: 40 });
    gw = await startComfyGateway({ servers: [comfy.url] });
  });
  after(async () => {
    await gw.stop();
    await comfy.close();
  });

  it("/run → progress → the image arrives in the chat that asked", async () => {
    const chat = await Thread.open(gw.url, "run1");
    await chat.send('/run txt2img steps=4 "a red fox in the snow"', "alice");
    const queued = await chat.waitFor(/Queued txt2img/);
    const promptId = /job ([0-9a-f-]{36})/.exec(queued)![1]!;

    // The workflow sent to ComfyUI has the free text in the prompt node and the typed values in place.
    const sent = comfy.submissions.find((s) => s.promptId === promptId)!;
    assert.equal(sent.prompt["6"]!.inputs.text, "a red fox in the snow, high quality");
    assert.equal(sent.prompt["3"]!.inputs.steps, 4);
    assert.equal(typeof sent.prompt["3"]!.inputs.seed, "number"); // seed default -1 → random
    assert.notEqual(sent.prompt["3"]!.inputs.seed, -1);

    const result = await chat.waitForReply(/txt2img finished/);
    assert.match(String(result.data.text), new RegExp(`1 image \\(job ${promptId}\\)`));
    const media = result.data.media as { mime: string; dataBase64: string; filename: string }[];
    assert.equal(media.length, 1);
    assert.equal(media[0]!.mime, "image/png");
    const meta = await sharp(Buffer.from(media[0]!.dataBase64, "base64")).metadata();
    assert.equal(meta.format, "png");
    assert.equal(meta.width, 64);

    // Progress was shown live while it ran (the web chat has a live view instead of edits).
    const progress = chat.events.filter((e) => e.type === "delta" && /step \d\/4/.test(String(e.data.text)));
    assert.ok(
      progress.length >= 2,
      `expected progress updates, saw ${JSON.stringify(chat.events.map((e) => e.data.text))}`,
    );
    assert.match(String(progress.at(-1)!.data.text), /step 4\/4 .* 100% \(node 3 KSampler\)/);

    // /history reads the stored job; the result was delivered exactly once.
    await chat.send(`/history ${promptId.slice(0, 8)}`, "alice");
    const hist = await chat.waitFor(/^Job .*\nTemplate: txt2img/);
    assert.match(hist, /State: done/);
    assert.match(hist, /Images: 1/);
    assert.equal(await chat.count(/txt2img finished/), 1);
    chat.close();
  });

  it("an unknown template or input gets an error listing what exists", async () => {
    const chat = await Thread.open(gw.url, "bad1");
    await chat.send("/run nosuch a cat");
    assert.match(
      await chat.waitFor(/Unknown template/),
      /Unknown template "nosuch"\. Available templates: txt2img, img2img/,
    );
    await chat.send("/run txt2img sampler=euler a cat");
    assert.match(
      await chat.waitFor(/Unknown input/),
      /Unknown input "sampler" for template txt2img\. Allowed inputs: prompt, negative, steps, cfg, seed, width, height/,
    );
    await chat.send("/run txt2img steps=lots a cat");
    await chat.waitFor(/steps must be a whole number, got "lots"/);
    await chat.send("/templates");
    const list = await chat.waitFor(/^Templates \(2\)/);
    assert.match(
      list,
      /txt2img — inputs: prompt \(string, default .*steps \(int, default 20\).*free text → prompt/,
    );
    // The image input is listed as a photo and is not where free text goes.
    assert.match(
      list,
      /img2img — inputs: prompt \(string, .*denoise \(float, default 0\.6\).*image \(photo\); free text → prompt/,
    );
    chat.close();
  });

  it("ComfyUI's node_errors for a bad graph are reported with the node", async () => {
    const chat = await Thread.open(gw.url, "bad2");
    await chat.send("/run txt2img steps=0 a cat");
    const msg = await chat.waitFor(/refused the workflow/);
    assert.match(
      msg,
      /Prompt outputs failed validation — node 3 \(KSampler\): Value 0 smaller than min of 1/,
    );
    chat.close();
  });

  it("an execution_error is reported with the node and the message", async () => {
    const chat = await Thread.open(gw.url, "err1");
    comfy.failNext = { message: "CUDA out of memory. Tried to allocate 2.00 GiB" };
    await chat.send("/run txt2img a cat");
    const msg = await chat.waitFor(/failed/);
    assert.match(
      msg,
      /❌ txt2img failed at node 3 \(KSampler\): CUDA out of memory\. Tried to allocate 2\.00 GiB/,
    );
    const promptId = /job ([0-9a-f-]{36})/.exec(msg)![1]!;
    await chat.send(`/trace ${promptId}`);
    const trace = await chat.waitFor(/^Job .*[\s\S]*Trace:/);
    assert.match(trace, /execution_error — at node 3 \(KSampler\) CUDA out of memory/);
    assert.match(trace, /RuntimeError: CUDA out of memory/);
    chat.close();
  });

  it("/stop interrupts a running job and the chat is told", async () => {
    const slow = comfy.options.stepMs;
    comfy.options.stepMs = 300;
    comfy.options.steps = 20;
    const chat = await Thread.open(gw.url, "stop1");
    await chat.send("/run txt2img a slow painting");
    const promptId = /job ([0-9a-f-]{36})/.exec(await chat.waitFor(/Queued/))![1]!;
    await waitFor(
      () => chat.events.some((e) => e.type === "delta" && /step 1\//.test(String(e.data.text))),
      8000,
      "the job to start",
    );
    await chat.send(`/stop ${promptId.slice(0, 8)}`);
    await chat.waitFor(new RegExp(`${promptId.slice(0, 8)}: interrupt sent`));
    await chat.waitFor(/⏹ txt2img stopped \(interrupted\)/);
    assert.deepEqual(comfy.interrupts.at(-1), { prompt_id: promptId });
    comfy.options.stepMs = slow;
    comfy.options.steps = 4;
    chat.close();
  });

  it("/status shows every ComfyUI server", async () => {
    const chat = await Thread.open(gw.url, "status1");
    await chat.send("/status");
    const status = await chat.waitFor(/clawgate .* up/);
    assert.match(
      status,
      new RegExp(
        `ComfyUI comfyui \\(${comfy.url}\\): up v0\\.3\\.66, queue \\d+, VRAM 18\\.6/24\\.0 GB free`,
      ),
    );
    chat.close();
  });
});

describe("ComfyUI pool", () => {
  it("with two servers and one down, jobs go to the healthy one and /status shows both", async () => {
    const up = await FakeComfyUI.start({ steps: 2, stepMs: 10 });
    const down = await FakeComfyUI.start();
    const downUrl = down.url;
    await down.close();
    // The down server is listed first: failover, not list order, decides.
    const gw = await startComfyGateway({ servers: [downUrl, up.url] });
    try {
      const chat = await Thread.open(gw.url, "pool1");
      for (let i = 0; i < 3; i++) {
        await chat.send(`/run txt2img picture ${i}`);
      }
      await waitFor(async () => (await chat.count(/txt2img finished/)) === 3, 10_000, "three results");
      assert.equal(up.submissions.length, 3);
      await chat.send("/status");
      const status = await chat.waitFor(/ComfyUI comfyui-1/);
      assert.match(
        status,
        new RegExp(
          `ComfyUI comfyui-1 \\(${downUrl}\\): DOWN — ComfyUI at ${downUrl} is not reachable \\(ECONNREFUSED\\)`,
        ),
      );
      assert.match(status, new RegExp(`ComfyUI comfyui-2 \\(${up.url}\\): up`));
      chat.close();
    } finally {
      await gw.stop();
      await up.close();
    }
  });

  it("with every server down, /run says so and what to fix", async () => {
    const a = await FakeComfyUI.start();
    const url = a.url;
    await a.close();
    const gw = await startComfyGateway({ servers: [url] });
    try {
      const chat = await Thread.open(gw.url, "pool2");
      await chat.send("/run txt2img a cat");
      assert.match(
        await chat.waitFor(/not reachable/),
        new RegExp(`ComfyUI at ${url} is not reachable \\(ECONNREFUSED\\)\\. Is it running\\?`),
      );
      chat.close();
    } finally {
      await gw.stop();
    }
  });
});
