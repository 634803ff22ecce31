import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { InboundEvent } from "../../src/core/event.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { tempDir, waitFor } from "../helpers/gateway.ts";
import { type ComfyGateway, startComfyGateway, Thread } from "./helpers.ts";

/** The web chat trusts everyone; for these tests the sender "stranger" is not on the allowlist. */
function distrustStranger(gw: ComfyGateway) {
  const adapter = gw.gateway.adapter("webchat", "default")!;
  (adapter as { isTrusted(e: InboundEvent): boolean }).isTrusted = (e) => e.sender.id !== "stranger";
}

describe("approvals", () => {
  let comfy: FakeComfyUI;
  let gw: ComfyGateway;
  const dir = tempDir("clawgate-apr-");

  before(async () => {
    comfy = await FakeComfyUI.start({ steps: 2, stepMs: 10 });
    gw = await startComfyGateway({
      servers: [comfy.url],
      dir,
      comfyui: { approvals: { notify: ["webchat:default:admins"] } },
    });
    distrustStranger(gw);
  });
  after(async () => {
    await gw.stop();
    await comfy.close();
  });

  it("an untrusted /run waits for approval; the admin's button runs it and both sides get the prompt id", async () => {
    const admins = await Thread.open(gw.url, "admins");
    const req = await Thread.open(gw.url, "req1");
    await req.send("/run txt2img steps=3 a quiet harbour", "stranger");
    const asked = await req.waitFor(/\[Approval Requested\]/);
    const id = /ID: (apr_[0-9a-z]{12})/.exec(asked)![1]!;
    assert.match(asked, /Request: \/run txt2img steps=3 prompt="a quiet harbour"/);
    assert.match(asked, /not on this channel's allowlist/);
    assert.equal(comfy.submissions.length, 0, "nothing runs before approval");

    const note = await admins.waitForReply(new RegExp(`\\[Approval Requested\\] ${id}`));
    assert.match(String(note.data.text), /From: stranger \(stranger\) on webchat/);
    assert.deepEqual(
      (note.data.buttons as { value: string }[]).map((b) => b.value),
      [`apr:approve:${id}`, `apr:reject:${id}`],
    );
    await admins.press(`apr:approve:${id}`);
    // A button's answer is a live reply to the admin who pressed it.
    const adminSide = await admins.waitForReply(new RegExp(`\\[Approved\\] ${id}\\nExecuted: `));
    const promptId = /Executed: ([0-9a-f-]{36})/.exec(String(adminSide.data.text))![1]!;
    const requesterSide = await req.waitFor(new RegExp(`\\[Approved\\] ${id}`));
    assert.match(requesterSide, new RegExp(`Executed: ${promptId}`));
    // The job runs with the approved inputs and its image goes to the requester.
    assert.equal(comfy.submissions.at(-1)!.prompt["3"]!.inputs.steps, 3);
    await req.waitForReply(new RegExp(`txt2img finished.*${promptId}`));
    // Pressing again does nothing twice.
    await admins.press(`apr:approve:${id}`);
    await admins.waitForReply(new RegExp(`${id} is already approved`));
    assert.equal(comfy.submissions.filter((s) => s.promptId === promptId).length, 1);
    admins.close();
    req.close();
  });

  it("--approval then /reject with a reason tells the requester the reason", async () => {
    const admins = await Thread.open(gw.url, "admins2");
    const req = await Thread.open(gw.url, "req2");
    await req.send("/run txt2img a dark alley --approval", "alice");
    const id = /ID: (apr_\w+)/.exec(await req.waitFor(/\[Approval Requested\]/))![1]!;
    await admins.send("/approvals");
    assert.match(
      await admins.waitFor(/Pending approvals/),
      new RegExp(`${id} — /run txt2img prompt="a dark alley"`),
    );
    await admins.send(`/reject ${id} too dark for the gallery`);
    assert.match(await admins.waitFor(/\[Rejected\]/), /Reason: too dark for the gallery/);
    const told = await req.waitFor(/\[Rejected\]/);
    assert.match(
      told,
      new RegExp(
        `\\[Rejected\\] ${id}: /run txt2img prompt="a dark alley" seed=\\d+\\nReason: too dark for the gallery`,
      ),
    );
    await admins.send(`/approve ${id}`);
    await admins.waitFor(new RegExp(`${id} is already rejected`));
    admins.close();
    req.close();
  });

  it("non-admins cannot use /approve", async () => {
    const t = await Thread.open(gw.url, "nonadmin");
    await t.send("/approve apr_000000000000", "alice");
    assert.match(await t.waitFor(/Access denied/), /admin command/);
    t.close();
  });
});

describe("approvals across a restart, and expiry", () => {
  it("a pending approval survives a restart and can be approved after it; an expired one is closed and the requester told", async () => {
    const comfy = await FakeComfyUI.start({ steps: 1, stepMs: 5 });
    after(() => comfy.close());
    const dir = tempDir("clawgate-apr2-");
    let gw = await startComfyGateway({ servers: [comfy.url], dir });
    let req = await Thread.open(gw.url, "r");
    await req.send("/run txt2img a lighthouse --approval", "alice");
    const id = /ID: (apr_\w+)/.exec(await req.waitFor(/\[Approval Requested\]/))![1]!;
    req.close();
    await gw.stop();

    gw = await startComfyGateway({
      servers: [comfy.url],
      dir,
      comfyui: { approvals: { ttlSec: 1, sweepIntervalMs: 50 } },
    });
    try {
      // Listen on the requester's thread before approving: the job's result is a live reply and may be quick.
      req = await Thread.open(gw.url, "r");
      const admin = await Thread.open(gw.url, "a");
      await admin.send(`/approve ${id}`);
      const ok = await admin.waitFor(/\[Approved\]/);
      assert.match(ok, new RegExp(`\\[Approved\\] ${id}\\nExecuted: [0-9a-f-]{36}`));
      await req.waitForReply(/txt2img finished/);

      // This gateway's TTL is one second: nobody decides, the sweeper closes it and tells the requester.
      await req.send("/run txt2img a cat --approval", "alice");
      const id2 = /ID: (apr_\w+)/.exec(await req.waitFor(new RegExp(`ID: (?!${id})apr_`)))![1]!;
      const expired = await req.waitFor(new RegExp(`\\[Expired\\] ${id2}`), 5000);
      assert.match(expired, /no admin decided before .*so this was not run: \/run txt2img prompt="a cat"/);
      await admin.send(`/approve ${id2}`);
      await admin.waitFor(new RegExp(`${id2} is already expired`));
      await waitFor(async () => (await req.count(/\[Expired\]/)) === 1);
      admin.close();
      req.close();
    } finally {
      await gw.stop();
    }
  });
});
