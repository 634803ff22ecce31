// A job must never run on two servers. POST /prompt is not idempotent: a server that does not answer in time
// may have queued the job (seen on a real CPU-only ComfyUI: both servers wrote the same seed's image). The
// pool asks such a server's /queue and /history before trying another one, and waits when it cannot ask.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { waitFor } from "../helpers/gateway.ts";
import { startComfyGateway, Thread } from "./helpers.ts";

const fakes: FakeComfyUI[] = [];
after(async () => {
  for (const f of fakes) await f.close();
});

async function pair(a: ConstructorParameters<typeof FakeComfyUI>[0]) {
  const slow = await FakeComfyUI.start({ steps: 1, stepMs: 5, ...a });
  const other = await FakeComfyUI.start({ steps: 1, stepMs: 5 });
  fakes.push(slow, other);
  const gw = await startComfyGateway({ servers: [slow.url, other.url], comfyui: { requestTimeoutMs: 1000 } });
  // Both checked healthy: the first listed (the slow one) is then the first choice.
  await waitFor(() => gw.ext.runtime!.pool.servers.every((s) => s.healthy === true), 8000, "health checks");
  return { slow, other, gw };
}

describe("no double execution across the pool", () => {
  for (const honorPromptId of [true, false]) {
    it(`a server that answers the submit too late but queued it keeps the job (${honorPromptId ? "client-chosen prompt_id" : "2024 server that ignores prompt_id"})`, async () => {
      const { slow, other, gw } = await pair({ answerDelayMs: 2500, honorPromptId });
      try {
        const chat = await Thread.open(gw.url, `late${honorPromptId}`);
        await chat.send("/run txt2img a red fox seed=7");
        const queued = await chat.waitFor(/Queued txt2img|did not answer/);
        assert.match(queued, /Queued txt2img on comfyui-1/);
        const promptId = slow.submissions[0]!.promptId;
        assert.ok(queued.includes(promptId), "the reply names the id the server runs it under");
        if (honorPromptId) {
          const sent = slow.promptRequests[0] as { prompt_id?: string };
          assert.equal(sent.prompt_id, promptId, "the server used the client-chosen prompt_id");
        }
        await chat.waitFor(new RegExp(`txt2img finished.*1 image \\(job ${promptId}\\)`));
        assert.equal(other.submissions.length, 0, "the job was not sent to the second server");
        assert.equal(slow.submissions.length, 1);
        chat.close();
      } finally {
        await gw.stop();
      }
    });
  }

  it("when the servers stall, the job is not sent elsewhere, the user is told it may run, and its result comes when it does", async () => {
    const { slow, other, gw } = await pair({});
    let unstall!: () => void;
    const gate = new Promise<void>((r) => {
      unstall = r;
    });
    slow.stallGate = gate;
    other.stallGate = gate;
    try {
      const chat = await Thread.open(gw.url, "stall");
      await chat.send("/run txt2img a lighthouse");
      const reply = await chat.waitFor(/did not answer|could take|not reachable/);
      assert.doesNotMatch(reply, /No ComfyUI server could take the job/);
      assert.match(reply, /did not answer in time — job ([0-9a-f-]{36})/);
      assert.match(reply, /not sent to another server/);
      const jobId = /job ([0-9a-f-]{36})/.exec(reply)![1]!;
      assert.equal(other.promptRequests.length, 0, "nothing was sent to the second server");
      await chat.send(`/history ${jobId}`);
      assert.match(await chat.waitFor(/^Job .*\nTemplate/), /State: sent, but the server has not confirmed/);

      slow.stallGate = undefined;
      other.stallGate = undefined;
      unstall();
      const done = await chat.waitFor(/txt2img finished/, 15_000);
      assert.match(done, new RegExp(`1 image \\(job ${jobId}\\)`));
      assert.equal(slow.submissions.length, 1);
      assert.equal(other.submissions.length, 0);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await chat.count(/txt2img finished/), 1);
      chat.close();
    } finally {
      unstall();
      await gw.stop();
    }
  });

  it("a server that answers late and never queued the job: the user is told to run it again", async () => {
    const { slow, other, gw } = await pair({});
    let unstall!: () => void;
    slow.stallGate = new Promise<void>((r) => {
      unstall = r;
    });
    try {
      const chat = await Thread.open(gw.url, "lost");
      await chat.send("/run txt2img a harbour");
      await chat.waitFor(/did not answer in time/);
      // The server comes back without the job (restarted while the request was in flight): nothing runs.
      slow.dropNextSubmit = true;
      slow.stallGate = undefined;
      unstall();
      const failed = await chat.waitFor(/txt2img failed/, 15_000);
      assert.match(failed, /never queued the job\. Run it again\./);
      assert.equal(slow.submissions.length + other.submissions.length, 0);
      chat.close();
    } finally {
      unstall();
      await gw.stop();
    }
  });
});
