// POST /bridge/token/rotate: a device cannot give itself a token that outlives security.pairing.tokenTtlSec.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type SecurityExtension, securityExtension } from "../../src/bridge/extension.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { postJson } from "../security/chat.ts";

describe("token rotation lifetime", () => {
  let gw: TestGateway;
  let ext: SecurityExtension;
  before(async () => {
    ext = securityExtension();
    gw = await startTestGateway({
      config: { bridge: { enabled: true }, security: { pairing: { tokenTtlSec: 600 } } },
      extensions: [ext],
    });
  });
  after(async () => {
    await gw.stop();
  });

  test("ttl_sec above tokenTtlSec is capped; below it is honoured", async () => {
    const devices = ext.pairing!.devices;
    const { request } = await devices.createRequest({ name: "t", requestedScopes: [] });
    const approved = await devices.approve(request.id, "test");
    const first = (await devices.issueToken(approved!.deviceId!))!;
    const headers = { "x-openclaw-device-id": first.deviceId, "x-openclaw-device-token": first.token };
    const before = Date.now();
    const long = await postJson(`${gw.url}/bridge/token/rotate`, { ttl_sec: 86_400 }, headers);
    assert.equal(long.status, 200);
    const expiresAt = long.json.expires_at_ms as number;
    assert.ok(expiresAt >= before + 600_000 && expiresAt <= Date.now() + 600_000, "capped at 600 s");
    const stored = (await devices.getDevice(first.deviceId))!.tokens.find((t) => t.id === long.json.token_id);
    assert.equal(stored?.expiresAt, expiresAt, "the stored token expires when the device was told");

    const next = { ...headers, "x-openclaw-device-token": long.json.token as string };
    const short = await postJson(`${gw.url}/bridge/token/rotate`, { ttl_sec: 120 }, next);
    assert.equal(short.status, 200);
    assert.ok((short.json.expires_at_ms as number) <= Date.now() + 120_000, "a shorter lifetime is kept");
  });
});
