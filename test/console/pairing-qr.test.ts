// The console shows a pairing setup code as a QR image the gateway draws (no page script makes it).
import assert from "node:assert/strict";
import { it } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { startTestGateway } from "../helpers/gateway.ts";
import { api, signIn } from "./helpers.ts";

it("GET /admin/api/pair/qr draws the setup code POST /admin/api/pair made as an SVG", async () => {
  const gw = await startTestGateway({
    config: { adminToken: "console-qr-admin-token", bridge: { enabled: true } },
    extensions: [securityExtension()],
  });
  try {
    const cookie = await signIn(gw.url, "console-qr-admin-token");
    const pair = await api(gw.url, "POST", "/admin/api/pair", { cookie, body: {} });
    assert.equal(pair.status, 200, pair.text);
    const code = String(pair.json.code);
    const qr = await api(gw.url, "GET", `/admin/api/pair/qr?code=${encodeURIComponent(code)}`, { cookie });
    assert.equal(qr.status, 200);
    assert.equal(qr.headers.get("content-type"), "image/svg+xml");
    assert.equal(qr.headers.get("x-content-type-options"), "nosniff");
    assert.match(qr.text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*viewBox="0 0 \d+ \d+"/);
    assert.ok(!qr.text.includes("<script"));
    const bad = await api(gw.url, "GET", "/admin/api/pair/qr?code=", { cookie });
    assert.equal(bad.status, 400);
    const anonymous = await api(gw.url, "GET", `/admin/api/pair/qr?code=${encodeURIComponent(code)}`);
    assert.equal(anonymous.status, 401);
  } finally {
    await gw.stop();
  }
});
