// The admin boundary and the CLI on top of it: token missing/wrong/right (header and Bearer), failed attempts
// rate-limited, loopback-only without a token; `clawgate pair …` and `clawgate devices …` against a real gateway.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { networkInterfaces } from "node:os";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { securityExtension } from "../../src/bridge/extension.ts";
import { decodeSetupCode } from "../../src/pairing/setup-code.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { postJson } from "./chat.ts";

const ADMIN = "admin-token-for-tests-0123456789";
const MAIN = resolve(import.meta.dirname, "../../src/cli/main.ts");
const run = promisify(execFile);

describe("admin API with a token, and the CLI", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      config: { adminToken: ADMIN, bridge: { enabled: true } },
      extensions: [securityExtension()],
    });
  });
  after(() => gw.stop());

  const cli = async (...args: string[]) => {
    const port = String(new URL(gw.url).port);
    const { stdout } = await run(process.execPath, [MAIN, "--port", port, ...args], {
      cwd: gw.dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    return stdout;
  };

  test("clawgate pair, pair --qr, pending, approve; devices list, rotate, revoke", async () => {
    const out = await cli("pair");
    const code = out.split("\n")[2]!.trim();
    const payload = decodeSetupCode(code);
    assert.ok(payload, out);
    const qr = await cli("pair", "--qr");
    assert.match(qr, /[█▀▄]/, "a QR code drawn with block characters");

    const hs = await postJson(`${gw.url}/bridge/handshake`, { setup_code: code, name: "cli device" });
    assert.equal(hs.status, 202);
    assert.match(await cli("pair", "pending"), /req_\w+ {2}device {2}"cli device"/);
    assert.match(
      await cli("pair", "approve", "latest", "--scopes", "delivery:send,config:read"),
      /Approved device "cli device"/,
    );
    const poll = await postJson(`${gw.url}/bridge/handshake`, {
      request_id: hs.json.request_id,
      poll_token: hs.json.poll_token,
    });
    assert.deepEqual(poll.json.scopes, ["delivery:send", "config:read"]);
    const id = poll.json.device_id as string;
    const headers = { "x-openclaw-device-id": id, "x-openclaw-device-token": poll.json.token as string };
    assert.equal((await fetch(`${gw.url}/bridge/config`, { headers })).status, 200);

    assert.match(await cli("devices", "list"), new RegExp(`${id} {2}active`));
    const rotated = await cli("devices", "rotate", id, "--overlap", "0");
    assert.match(rotated, /New token bt_/);
    assert.equal(
      (await fetch(`${gw.url}/bridge/config`, { headers })).status,
      401,
      "rotated out with no overlap",
    );
    const fresh = rotated.split("\n")[2]!.trim();
    const freshHeaders = { "x-openclaw-device-id": id, "x-openclaw-device-token": fresh };
    assert.equal((await fetch(`${gw.url}/bridge/config`, { headers: freshHeaders })).status, 200);
    assert.match(await cli("devices", "revoke", id), /Revoked/);
    assert.equal((await fetch(`${gw.url}/bridge/config`, { headers: freshHeaders })).status, 401);
    assert.match(await cli("devices", "list"), new RegExp(`${id} {2}revoked`));

    assert.match(await cli("pair", "cleanup"), /1 unused setup code/, "the --qr code was never used");
  });

  test("missing token 401, wrong 403, right by header or Bearer; failures rate-limited even for the right token", async () => {
    const url = `${gw.url}/admin/api/devices`;
    assert.equal((await fetch(url)).status, 401);
    assert.equal(
      (await fetch(url, { headers: { "x-openclaw-admin-token": "wrong-token-wrong-token" } })).status,
      403,
    );
    assert.equal((await fetch(url, { headers: { "x-openclaw-admin-token": ADMIN } })).status, 200);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } })).status, 200);
    for (let i = 0; i < 10; i++) await fetch(url, { headers: { authorization: "Bearer guess" } });
    const blocked = await fetch(url, { headers: { authorization: `Bearer ${ADMIN}` } });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
  });
});

describe("admin API without a token", () => {
  test("loopback callers only", async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    const gw = await startTestGateway({
      config: { server: { host: external ? "0.0.0.0" : "127.0.0.1" } },
      extensions: [securityExtension()],
    });
    try {
      const port = new URL(gw.url).port;
      assert.equal((await fetch(`http://127.0.0.1:${port}/admin/api/devices`)).status, 200);
      if (external) {
        const remote = await fetch(`http://${external}:${port}/admin/api/devices`);
        assert.equal(remote.status, 403);
        assert.match(((await remote.json()) as { error: string }).error, /loopback-only/);
      }
    } finally {
      await gw.stop();
    }
  });
});
