// Every way the bridge says no: missing, wrong, expired, revoked and rotated-out tokens; a missing scope; the
// static token's device-id restriction; replayed and reused idempotency keys; size limits; the per-device
// budget; handshake brute force; and a bridge that is switched off.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type SecurityExtension, securityExtension } from "../../src/bridge/extension.ts";
import type { Scope } from "../../src/pairing/scopes.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { history, newThread, postJson } from "../security/chat.ts";

const STATIC = "static-bridge-token-0123456789";

describe("bridge refusals", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  let ext: SecurityExtension;
  before(async () => {
    agent = await new FakeAgent().start();
    ext = securityExtension();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        bridge: { rateLimitPerMinute: 1000 },
        security: { pairing: { handshakePerMinute: 3 } },
      },
      env: {
        OPENCLAW_BRIDGE_ENABLED: "1",
        OPENCLAW_BRIDGE_DEVICE_TOKEN: STATIC,
        OPENCLAW_BRIDGE_ALLOWED_DEVICE_IDS: "comfy-1,comfy-2",
      },
      extensions: [ext],
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  /** A paired device with the given scopes, made the way /pair approve makes one. */
  async function pairedDevice(scopes?: Scope[], ttlMs?: number) {
    const devices = ext.pairing!.devices;
    const { request } = await devices.createRequest({ name: "test", requestedScopes: [] });
    const approved = await devices.approve(request.id, "test", scopes);
    const issued = await devices.issueToken(approved!.deviceId!, { ttlMs });
    return { id: issued!.deviceId, token: issued!.token, headers: auth(issued!.deviceId, issued!.token) };
  }
  const auth = (id: string, token: string, scopes?: string) => ({
    "x-openclaw-device-id": id,
    "x-openclaw-device-token": token,
    ...(scopes ? { "x-openclaw-scopes": scopes } : {}),
  });
  const deliverBody = (thread: string, key: string, text = "hi") => ({
    target: `webchat:default:${thread}`,
    text,
    idempotency_key: key,
  });

  test("missing and wrong credentials", async () => {
    const none = await fetch(`${gw.url}/bridge/health`);
    assert.equal(none.status, 401);
    const d = await pairedDevice();
    const wrong = await fetch(`${gw.url}/bridge/health`, {
      headers: auth(d.id, `${d.token.slice(0, -2)}xx`),
    });
    assert.equal(wrong.status, 401);
    const unknown = await fetch(`${gw.url}/bridge/health`, { headers: auth("dev_nobody", d.token) });
    assert.equal(unknown.status, 401);
    const ok = await fetch(`${gw.url}/bridge/health`, { headers: d.headers });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as Record<string, unknown>;
    assert.equal(typeof body.uptime_sec, "number");
    assert.equal(typeof body.job_queue_depth, "number");
  });

  test("expired, revoked and rotated-out tokens", async () => {
    const short = await pairedDevice(undefined, 30);
    await new Promise((r) => setTimeout(r, 60));
    const expired = await fetch(`${gw.url}/bridge/health`, { headers: short.headers });
    assert.equal(expired.status, 401);
    assert.equal(((await expired.json()) as { reason: string }).reason, "expired");

    const d = await pairedDevice();
    const revoked = await postJson(`${gw.url}/admin/api/devices/${d.id}/revoke`, {});
    assert.equal(revoked.status, 200);
    const after = await fetch(`${gw.url}/bridge/health`, { headers: d.headers });
    assert.equal(after.status, 401);
    assert.equal(((await after.json()) as { reason: string }).reason, "revoked");
    const rotateRevoked = await postJson(`${gw.url}/admin/api/devices/${d.id}/rotate`, {});
    assert.equal(rotateRevoked.status, 404);

    // Rotation by the device: the old token keeps working for the overlap window (300 s by default).
    const r = await pairedDevice();
    const rotated = await postJson(`${gw.url}/bridge/token/rotate`, {}, r.headers);
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.json.token, r.token);
    assert.equal((await fetch(`${gw.url}/bridge/health`, { headers: r.headers })).status, 200, "overlap");
    const fresh = auth(r.id, rotated.json.token as string);
    assert.equal((await fetch(`${gw.url}/bridge/health`, { headers: fresh })).status, 200);
    // Rotation by an admin with no overlap: the previous tokens stop at once.
    const byAdmin = await postJson(`${gw.url}/admin/api/devices/${r.id}/rotate`, {
      overlapSec: 0,
      ttlSec: 120,
    });
    assert.equal(byAdmin.status, 200);
    assert.equal((await fetch(`${gw.url}/bridge/health`, { headers: fresh })).status, 401);
    const newest = auth(r.id, byAdmin.json.token as string);
    assert.equal((await fetch(`${gw.url}/bridge/health`, { headers: newest })).status, 200);
    const ttl = (byAdmin.json.expiresAt as number) - Date.now();
    assert.ok(ttl > 100_000 && ttl <= 120_000);
  });

  test("each route checks its scope", async () => {
    const thread = await newThread(gw.url);
    const sendOnly = await pairedDevice(["delivery:send"]);
    const submit = await postJson(
      `${gw.url}/bridge/submit`,
      { inputs: { text: "x" }, idempotency_key: "s1" },
      sendOnly.headers,
    );
    assert.equal(submit.status, 403);
    assert.equal(submit.json.required_scope, "job:submit");
    const cfg = await fetch(`${gw.url}/bridge/config`, { headers: sendOnly.headers });
    assert.equal(cfg.status, 403);
    const submitOnly = await pairedDevice(["job:submit"]);
    const deliver = await postJson(`${gw.url}/bridge/deliver`, deliverBody(thread, "d1"), submitOnly.headers);
    assert.equal(deliver.status, 403);
    const status = await fetch(`${gw.url}/bridge/jobs/bj_x`, { headers: submitOnly.headers });
    assert.equal(status.status, 403);
  });

  test("the static token: allowed device ids and declared scopes", async () => {
    const thread = await newThread(gw.url);
    const notAllowed = await fetch(`${gw.url}/bridge/health`, {
      headers: auth("intruder", STATIC, "delivery:send"),
    });
    assert.equal(notAllowed.status, 403);
    const noScope = await postJson(
      `${gw.url}/bridge/deliver`,
      deliverBody(thread, "st-1"),
      auth("comfy-1", STATIC),
    );
    assert.equal(noScope.status, 403);
    const badScope = await fetch(`${gw.url}/bridge/health`, { headers: auth("comfy-1", STATIC, "root") });
    assert.equal(badScope.status, 400);
    const ok = await postJson(
      `${gw.url}/bridge/deliver`,
      deliverBody(thread, "st-1", "from comfy"),
      auth("comfy-1", STATIC, "delivery:send"),
    );
    assert.equal(ok.status, 200);
    await waitFor(
      async () => (await history(gw.url, thread)).some((m) => m.content === "from comfy"),
      5000,
      "delivery",
    );
  });

  test("idempotency: required, replays are deduped and done once, reuse with another body refused", async () => {
    const thread = await newThread(gw.url);
    const d = await pairedDevice();
    const noKey = await postJson(
      `${gw.url}/bridge/deliver`,
      { target: `webchat:default:${thread}`, text: "x" },
      d.headers,
    );
    assert.equal(noKey.status, 400);
    const first = await postJson(
      `${gw.url}/bridge/deliver`,
      deliverBody(thread, "k-1", "only once"),
      d.headers,
    );
    assert.equal(first.status, 200);
    assert.equal(first.json.deduped, undefined);
    const second = await postJson(
      `${gw.url}/openclaw/bridge/deliver`,
      deliverBody(thread, "k-1", "only once"),
      d.headers,
    );
    assert.equal(second.status, 200);
    assert.equal(second.json.deduped, true);
    assert.equal(second.json.delivery_id, first.json.delivery_id);
    const reused = await postJson(
      `${gw.url}/bridge/deliver`,
      deliverBody(thread, "k-1", "something else"),
      d.headers,
    );
    assert.equal(reused.status, 409);
    await waitFor(
      async () => (await history(gw.url, thread)).some((m) => m.content === "only once"),
      5000,
      "delivery",
    );
    const copies = (await history(gw.url, thread)).filter((m) => m.content === "only once");
    assert.equal(copies.length, 1);
  });

  test("limits: text, files, inputs, unknown targets", async () => {
    const thread = await newThread(gw.url);
    const d = await pairedDevice();
    const long = await postJson(
      `${gw.url}/bridge/deliver`,
      deliverBody(thread, "l1", "x".repeat(8001)),
      d.headers,
    );
    assert.equal(long.status, 413);
    const files = Array.from({ length: 11 }, (_, i) => ({
      filename: `${i}.txt`,
      mime: "text/plain",
      data_base64: "aGk=",
    }));
    const many = await postJson(
      `${gw.url}/bridge/deliver`,
      { ...deliverBody(thread, "l2"), files },
      d.headers,
    );
    assert.equal(many.status, 413);
    const big = await postJson(
      `${gw.url}/bridge/submit`,
      { inputs: { text: "y", blob: "z".repeat(70_000) }, idempotency_key: "l3" },
      d.headers,
    );
    assert.equal(big.status, 413);
    const nowhere = await postJson(
      `${gw.url}/bridge/deliver`,
      { ...deliverBody(thread, "l4"), target: "telegram:12345" },
      d.headers,
    );
    assert.equal(nowhere.status, 400);
    assert.match(nowhere.json.error as string, /no channel telegram\/default is configured/);
    const template = await postJson(
      `${gw.url}/bridge/submit`,
      { template_id: "txt2img", inputs: {}, idempotency_key: "l5" },
      d.headers,
    );
    assert.equal(template.status, 400);
  });

  test("handshake brute force is rate-limited per address, even for a right token", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${gw.url}/bridge/handshake`, { bootstrap_token: `guess-${i}`, name: "x" });
      assert.equal(r.status, 401);
    }
    const ttl = 600_000;
    const { token } = await ext.pairing!.devices.createBootstrap(ttl, "test");
    const blocked = await postJson(`${gw.url}/bridge/handshake`, { bootstrap_token: token, name: "x" });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
  });
});

describe("bridge budget and switch", () => {
  test("over the per-device budget → 429 with Retry-After", async () => {
    const ext = securityExtension();
    const gw = await startTestGateway({
      config: { bridge: { enabled: true, rateLimitPerMinute: 3 } },
      extensions: [ext],
    });
    try {
      const devices = ext.pairing!.devices;
      const { request } = await devices.createRequest({ name: "t", requestedScopes: [] });
      const approved = await devices.approve(request.id, "t");
      const issued = (await devices.issueToken(approved!.deviceId!))!;
      const headers = { "x-openclaw-device-id": issued.deviceId, "x-openclaw-device-token": issued.token };
      for (let i = 0; i < 3; i++)
        assert.equal((await fetch(`${gw.url}/bridge/health`, { headers })).status, 200);
      const over = await fetch(`${gw.url}/bridge/health`, { headers });
      assert.equal(over.status, 429);
      assert.ok(Number(over.headers.get("retry-after")) >= 1);
    } finally {
      await gw.stop();
    }
  });

  test("with the bridge off there is no bridge, and /pair says how to turn it on", async () => {
    const gw = await startTestGateway({ extensions: [securityExtension()] });
    try {
      assert.equal((await fetch(`${gw.url}/bridge/health`)).status, 404);
      const r = await postJson(`${gw.url}/admin/api/pair`, {});
      assert.equal(r.status, 409);
      assert.match(r.json.error as string, /OPENCLAW_BRIDGE_ENABLED/);
    } finally {
      await gw.stop();
    }
  });
});
