// Device pairing end to end from a chat: /pair in the web chat → handshake → the chat is told → /pair approve
// → the device collects its token → submits through the bridge → the result is delivered to the chat.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { decodeSetupCode } from "../../src/pairing/setup-code.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { expectMessage, history, newThread, postJson, say } from "./chat.ts";

describe("device pairing from a chat", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: { agentUrl: agent.url, policy: { adminUsers: ["local"] }, bridge: { enabled: true } },
      extensions: [securityExtension()],
    });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  async function setupCode(thread: string) {
    const before = (await history(gw.url, thread)).length;
    await say(gw.url, thread, "/pair");
    const msg = await expectMessage(
      gw.url,
      thread,
      (m) => m.role === "system" && m.content.startsWith("Setup code") && m.id > before,
      "the setup code",
    );
    const code = msg.content.split("\n")[1]!.trim();
    assert.match(code, /^[A-Za-z0-9_-]+$/, "base64url without padding");
    const payload = decodeSetupCode(code);
    assert.ok(payload);
    return payload;
  }

  test("pair, approve in chat, collect the token once, submit and get the result in the chat", async () => {
    const thread = await newThread(gw.url);
    const payload = await setupCode(thread);
    assert.equal(payload.url, gw.url);
    assert.ok(payload.expiresAtMs > Date.now() && payload.expiresAtMs <= Date.now() + 10 * 60_000);

    const hs = await postJson(`${payload.url}/bridge/handshake`, {
      bootstrap_token: payload.bootstrapToken,
      name: "kitchen tablet",
      platform: "android",
    });
    assert.equal(hs.status, 202);
    assert.equal(hs.json.status, "pending");
    const requestId = hs.json.request_id as string;
    const pollToken = hs.json.poll_token as string;

    // The token is single use.
    const again = await postJson(`${gw.url}/bridge/handshake`, {
      bootstrap_token: payload.bootstrapToken,
      name: "x",
    });
    assert.equal(again.status, 401);

    // Still pending; the chat was told, with buttons.
    const poll1 = await postJson(`${gw.url}/bridge/handshake`, {
      request_id: requestId,
      poll_token: pollToken,
    });
    assert.equal(poll1.status, 202);
    assert.equal(poll1.json.status, "pending");
    await expectMessage(
      gw.url,
      thread,
      (m) => m.content.includes(`asks to pair`) && m.content.includes(requestId),
      "the pairing notice",
    );

    // A wrong poll token learns nothing.
    const wrongPoll = await postJson(`${gw.url}/bridge/handshake`, {
      request_id: requestId,
      poll_token: "nope",
    });
    assert.equal(wrongPoll.status, 404);

    await say(gw.url, thread, "/pair pending");
    await expectMessage(
      gw.url,
      thread,
      (m) => m.content.startsWith("Waiting for approval") && m.content.includes("kitchen tablet"),
      "the pending list",
    );
    await say(gw.url, thread, "/pair approve latest");
    await expectMessage(
      gw.url,
      thread,
      (m) => m.content.startsWith('Approved device "kitchen tablet"'),
      "the approval",
    );

    const poll2 = await postJson(`${gw.url}/bridge/handshake`, {
      request_id: requestId,
      poll_token: pollToken,
    });
    assert.equal(poll2.status, 200);
    assert.equal(poll2.json.status, "approved");
    const deviceId = poll2.json.device_id as string;
    const token = poll2.json.token as string;
    assert.match(poll2.json.token_id as string, /^bt_/);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes, url-safe");
    assert.deepEqual(poll2.json.scopes, ["job:submit", "job:status", "delivery:send"]);
    const expiresIn = (poll2.json.expires_at_ms as number) - Date.now();
    assert.ok(expiresIn > 3500_000 && expiresIn <= 3600_000, "default expiry 1 h");

    // Collected exactly once; a second poll is told the token is gone (410, as documented), not 404.
    const poll3 = await postJson(`${gw.url}/bridge/handshake`, {
      request_id: requestId,
      poll_token: pollToken,
    });
    assert.equal(poll3.status, 410);
    assert.equal(poll3.json.status, "collected");
    assert.equal(poll3.json.token, undefined, "no second token");
    const wrongAfter = await postJson(`${gw.url}/bridge/handshake`, {
      request_id: requestId,
      poll_token: "nope",
    });
    assert.equal(wrongAfter.status, 404, "a wrong poll token still learns nothing");

    // The token is stored only as a hash.
    const stored = await gw.gateway.store.kvGet("devices", deviceId);
    assert.ok(stored && !stored.includes(token));

    const auth = { "x-openclaw-device-id": deviceId, "x-openclaw-device-token": token };
    const health = await fetch(`${gw.url}/openclaw/bridge/health`, { headers: auth });
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { ok: boolean }).ok, true);

    const body = {
      inputs: { text: "what is on the menu" },
      idempotency_key: "job-1",
      delivery_target: `webchat:default:${thread}`,
    };
    const submitted = await postJson(`${gw.url}/bridge/submit`, body, auth);
    assert.equal(submitted.status, 200);
    assert.equal(submitted.json.status, "queued");
    assert.match(submitted.json.prompt_id as string, /^bj_/);
    await expectMessage(
      gw.url,
      thread,
      (m) => m.role === "assistant" && m.content === "echo: what is on the menu",
      "the job result in the chat",
    );

    // Replaying the key returns the first answer and runs nothing again.
    const requests = agent.requests.length;
    const replay = await postJson(`${gw.url}/openclaw/bridge/submit`, body, auth);
    assert.equal(replay.status, 200);
    assert.equal(replay.json.deduped, true);
    assert.equal(replay.json.prompt_id, submitted.json.prompt_id);
    const status = await fetch(`${gw.url}/bridge/jobs/${submitted.json.prompt_id}`, { headers: auth });
    const job = (await status.json()) as { status: string; delivered: boolean };
    assert.equal(job.status, "done");
    assert.equal(job.delivered, true);
    assert.equal(agent.requests.length, requests, "the agent was not called again");
    const results = (await history(gw.url, thread)).filter((m) => m.content === "echo: what is on the menu");
    assert.equal(results.length, 1, "delivered once");
  });

  test("/pair qr sends a PNG QR code where the channel has media", async () => {
    const thread = await newThread(gw.url);
    const events = await fetch(`${gw.url}/api/threads/${thread}/events`);
    const reader = events.body!.getReader();
    await say(gw.url, thread, "/pair qr");
    let seen = "";
    const deadline = Date.now() + 8000;
    while (!seen.includes('"image/png"') && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += Buffer.from(value).toString("utf8");
    }
    await reader.cancel();
    assert.match(seen, /"mime":"image\/png"/);
    const b64 = /"dataBase64":"([^"]+)"/.exec(seen)![1]!;
    assert.deepEqual([...Buffer.from(b64, "base64").subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], "a PNG");
  });

  test("non-admins cannot pair", async () => {
    const thread = await newThread(gw.url);
    await say(gw.url, thread, "/pair", "someone-else");
    await expectMessage(
      gw.url,
      thread,
      (m) => m.content.startsWith("Access denied: /pair is an admin command"),
      "the refusal",
    );
  });
});
