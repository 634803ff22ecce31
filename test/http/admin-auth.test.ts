import assert from "node:assert/strict";
import { it } from "node:test";
import { startTestGateway } from "../helpers/gateway.ts";

it("without an admin token the admin API serves loopback callers, but not requests relayed by a local proxy", async () => {
  const gw = await startTestGateway();
  try {
    const direct = await fetch(`${gw.url}/admin/api/status`);
    assert.equal(direct.status, 200);
    const proxied = await fetch(`${gw.url}/admin/api/status`, {
      headers: { "x-forwarded-for": "203.0.113.9" },
    });
    assert.equal(proxied.status, 403);
    assert.match(((await proxied.json()) as { error: string }).error, /loopback-only: set adminToken/);
  } finally {
    await gw.stop();
  }
});
