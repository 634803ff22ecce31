// Approvals from the console: a real pending approval (an untrusted /run with ComfyUI behind its fake) is listed,
// approved (the job runs once and the requester is told) or rejected with a reason, through the admin API.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type ComfyGateway, startComfyGateway, Thread } from "../comfyui/helpers.ts";
import { FakeComfyUI } from "../fakes/comfyui.ts";
import { api, signIn } from "./helpers.ts";

const TOKEN = "console-approvals-admin-token";

describe("approvals from the console", () => {
  let comfy: FakeComfyUI;
  let gw: ComfyGateway;
  let cookie: string;
  before(async () => {
    comfy = await FakeComfyUI.start({ steps: 1, stepMs: 5 });
    gw = await startComfyGateway({ servers: [comfy.url], config: { adminToken: TOKEN } });
    cookie = await signIn(gw.url, TOKEN);
  });
  after(async () => {
    await gw.stop();
    await comfy.close();
  });

  const request = async (thread: string, prompt: string) => {
    const req = await Thread.open(gw.url, thread);
    await req.send(`/run txt2img ${prompt} --approval`, "alice");
    const id = /ID: (apr_\w+)/.exec(await req.waitFor(/\[Approval Requested\]/))![1]!;
    return { req, id };
  };

  it("lists the pending approval and approves it: the job runs once and the requester is told", async () => {
    const { req, id } = await request("c1", "a lighthouse");
    const list = await api(gw.url, "GET", "/admin/api/approvals", { cookie });
    assert.equal(list.status, 200);
    const a = (list.json.approvals as Record<string, unknown>[]).find((x) => x.id === id)!;
    assert.equal(a.kind, "comfyui.run");
    assert.equal(a.channel, "webchat");
    assert.equal(a.requestedBy, "alice");
    assert.match(String(a.summary), /^\/run txt2img prompt="a lighthouse"/);
    assert.equal((a.inputs as Record<string, unknown>).prompt, "a lighthouse");
    assert.ok((a.expiresAt as number) > (a.createdAt as number));

    const before = comfy.submissions.length;
    const r = await api(gw.url, "POST", `/admin/api/approvals/${id}/approve`, { cookie, body: {} });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.ok, true);
    assert.equal(r.json.status, "approved");
    assert.match(String(r.json.message), new RegExp(`^\\[Approved\\] ${id}\\nExecuted: `));
    assert.equal(comfy.submissions.length, before + 1);
    assert.match(await req.waitFor(new RegExp(`\\[Approved\\] ${id}`)), /Executed: /);
    const stored = await gw.ext.runtime!.approvals.store.get(id);
    assert.equal(stored?.decidedBy, `console:${cookie.slice(0, 8)}`);

    const again = await api(gw.url, "POST", `/admin/api/approvals/${id}/approve`, { cookie });
    assert.equal(again.status, 409);
    assert.match(String(again.json.error), new RegExp(`${id} is already approved`));
    assert.equal(comfy.submissions.length, before + 1, "approved once, run once");
    const gone = await api(gw.url, "GET", "/admin/api/approvals", { cookie });
    assert.ok(!(gone.json.approvals as { id: string }[]).some((x) => x.id === id));
    req.close();
  });

  it("rejects with a reason, which the requester is told; every decision is audited", async () => {
    const { req, id } = await request("c2", "a dark alley");
    const before = comfy.submissions.length;
    const r = await api(gw.url, "POST", `/admin/api/approvals/${id}/reject`, {
      cookie,
      body: { reason: "too dark" },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.status, "rejected");
    assert.match(await req.waitFor(/\[Rejected\]/), /Reason: too dark/);
    assert.equal(comfy.submissions.length, before);
    const unknown = await api(gw.url, "POST", "/admin/api/approvals/apr_000000000000/reject", { cookie });
    assert.equal(unknown.status, 404);
    const bad = await api(gw.url, "POST", `/admin/api/approvals/${id}/reject`, {
      cookie,
      body: { reason: 5 },
    });
    assert.equal(bad.status, 400);
    const audit = (await api(gw.url, "GET", "/admin/api/audit?limit=10", { cookie })).json.entries as {
      path: string;
      status: number;
      summary?: string;
    }[];
    const mine = audit.find((e) => e.path === `/admin/api/approvals/${id}/reject` && e.status === 200);
    assert.match(String(mine?.summary), new RegExp(`^reject ${id}: /run txt2img prompt="a dark alley"`));
    req.close();
  });

  it("schedules preview: the next run times of a cron expression; a bad one is refused", async () => {
    const r = await api(
      gw.url,
      "GET",
      "/admin/api/schedules/preview?cron=0%209%20*%20*%20*&timezone=UTC&count=3",
      {
        cookie,
      },
    );
    assert.equal(r.status, 200, r.text);
    const times = r.json.times as string[];
    assert.equal(times.length, 3);
    for (const t of times) assert.match(t, /T09:00:00\.000Z$/);
    assert.equal(new Date(times[1]!).getTime() - new Date(times[0]!).getTime(), 86_400_000);
    const bad = await api(gw.url, "GET", "/admin/api/schedules/preview?cron=nope", { cookie });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /"nope" is not a valid cron expression/);
  });
});
