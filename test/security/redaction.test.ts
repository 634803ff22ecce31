// Secrets never reach the log: a gateway with every kind of secret set (config file and environment) is driven
// through successes and failures with logging at trace level, and no secret value — configured or minted at
// runtime (device, bootstrap, poll and callback tokens) — appears anywhere in the output.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { channelEnvMappers } from "../../src/channels/registry.ts";
import { loadConfig } from "../../src/config/load.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import { createLogger } from "../../src/log.ts";
import { decodeSetupCode } from "../../src/pairing/setup-code.ts";
import { FakeAsyncAgent } from "../fakes/async-agent.ts";
import { tempDir, waitFor } from "../helpers/gateway.ts";
import { history, newThread, postJson, say } from "./chat.ts";

const SECRETS = {
  adminToken: "SECRET-admin-token-7f3a9c1e",
  callbackSecret: "SECRET-callback-secret-5b2d",
  apiKey: "SECRET-api-key-sk-81c0ffee",
  webchatToken: "SECRET-webchat-token-4e6f8a",
  bridgeToken: "SECRET-bridge-static-token-93ab",
};

test("no secret appears in the log, whatever happens", async () => {
  const agent = await new FakeAsyncAgent({ secret: SECRETS.callbackSecret }).start();
  const dir = tempDir();
  writeFileSync(
    join(dir, "clawgate.json"),
    JSON.stringify({
      server: { port: 0 },
      agentUrl: agent.url,
      adminToken: SECRETS.adminToken,
      async: true,
      callbackPort: 0,
      callbackSecret: SECRETS.callbackSecret,
      policy: { adminUsers: ["local"] },
      logLevel: "trace",
    }),
  );
  const env = {
    OCG_API_KEY: SECRETS.apiKey,
    CLAWGATE_WEBCHAT_TOKEN: SECRETS.webchatToken,
    OPENCLAW_BRIDGE_ENABLED: "true",
    OPENCLAW_BRIDGE_DEVICE_TOKEN: SECRETS.bridgeToken,
  };
  let output = "";
  const sink = new Writable({
    write(chunk, _enc, done) {
      output += chunk.toString();
      done();
    },
  });
  const { config, env: merged } = loadConfig({ cwd: dir, env, channelEnv: channelEnvMappers() });
  const log = createLogger("trace", { pretty: false, destination: sink });
  log.info({ config }, "effective configuration");
  const gateway = await Gateway.create({ config, env: merged, log, extensions: [securityExtension()] });
  await gateway.start();
  const url = gateway.url;
  const minted: string[] = [];
  try {
    const admin = { "x-openclaw-admin-token": SECRETS.adminToken };
    // Admin: wrong, missing and right tokens.
    await fetch(`${url}/admin/api/status`, {
      headers: { "x-openclaw-admin-token": `${SECRETS.adminToken}x` },
    });
    await fetch(`${url}/admin/api/status`);
    await fetch(`${url}/admin/api/status`, { headers: admin });
    // Pairing by the admin API and by chat; a failed and a successful handshake; approval; token use.
    const setup = await postJson(`${url}/admin/api/pair`, { qr: true }, admin);
    const payload = decodeSetupCode(setup.json.code as string)!;
    minted.push(payload.bootstrapToken);
    await postJson(`${url}/bridge/handshake`, { bootstrap_token: "not-a-token", name: "x" });
    const hs = await postJson(`${url}/bridge/handshake`, {
      bootstrap_token: payload.bootstrapToken,
      name: "phone",
    });
    minted.push(hs.json.poll_token as string);
    await postJson(`${url}/admin/api/pair/approve`, { id: "latest" }, admin);
    const poll = await postJson(`${url}/bridge/handshake`, {
      request_id: hs.json.request_id,
      poll_token: hs.json.poll_token,
    });
    const deviceToken = poll.json.token as string;
    minted.push(deviceToken);
    const device = {
      "x-openclaw-device-id": poll.json.device_id as string,
      "x-openclaw-device-token": deviceToken,
    };
    await fetch(`${url}/bridge/health`, { headers: device });
    await fetch(`${url}/bridge/health`, {
      headers: { ...device, "x-openclaw-device-token": `${deviceToken}x` },
    });
    await fetch(`${url}/bridge/health`, {
      headers: {
        "x-openclaw-device-id": "comfy",
        "x-openclaw-device-token": SECRETS.bridgeToken,
        "x-openclaw-scopes": "bogus",
      },
    });
    const rotated = await postJson(
      `${url}/admin/api/devices/${device["x-openclaw-device-id"]}/rotate`,
      {},
      admin,
    );
    minted.push(rotated.json.token as string);

    // Web chat (loopback) → async agent → callbacks: bad signature, good, error.
    const thread = await newThread(url);
    await say(url, thread, "/pair");
    await waitFor(
      async () => (await history(url, thread)).some((m) => m.content.startsWith("Setup code")),
      8000,
      "setup code",
    );
    await say(url, thread, "hello agent");
    await agent.waitForRequests(1);
    minted.push(agent.requests[0]!.callbackUrl.split("/").at(-1)!);
    assert.equal(await agent.answer(0, { reply: "x" }, { secret: "wrong" }), 401);
    assert.equal(await agent.answer(0, { reply: "fine" }), 200);
    assert.equal(await agent.answer(0, { reply: "again" }), 404);
    // Deliver to a channel that does not exist, and a submit whose agent call fails.
    await postJson(
      `${url}/bridge/deliver`,
      { target: "nope:1", text: "x", idempotency_key: "r1" },
      {
        "x-openclaw-device-id": "comfy",
        "x-openclaw-device-token": SECRETS.bridgeToken,
        "x-openclaw-scopes": "delivery:send,job:submit",
      },
    );
    await agent.stop();
    await say(url, thread, "agent is down now");
    await waitFor(
      async () => (await history(url, thread)).some((m) => m.role === "error"),
      8000,
      "the error reply",
    );
  } finally {
    await gateway.stop();
  }
  assert.ok(output.length > 2000, "trace logging produced output");
  assert.match(output, /\[redacted\]/, "the config was logged with its secrets redacted");
  for (const [name, value] of Object.entries(SECRETS))
    assert.ok(!output.includes(value), `${name} leaked into the log`);
  for (const value of minted) {
    assert.ok(value && value.length >= 32);
    assert.ok(!output.includes(value), `a runtime token leaked into the log: ${value.slice(0, 6)}…`);
  }
});
