import assert from "node:assert/strict";
import { request } from "node:http";
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

it("a port already in use is a clear startup error, and the half-started gateway cleans up after itself", async () => {
  const first = await startTestGateway();
  try {
    const port = Number(new URL(first.url).port);
    await assert.rejects(startTestGateway({ config: { server: { port } } }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*--port, CLAWGATE_PORT or server\\.port`),
      );
      return true;
    });
  } finally {
    await first.stop();
  }
});

/** A raw request: fetch() would normalise the path before sending it. */
function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: "GET" }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

it("a path starting with // is a path, not a host: it reaches no route and never a 500", async () => {
  const gw = await startTestGateway();
  try {
    const smuggled = await rawGet(gw.url, "//proxy-allowed-prefix/admin/api/status");
    assert.equal(smuggled.status, 404, smuggled.body);
    const bare = await rawGet(gw.url, "//");
    assert.equal(bare.status, 404, bare.body);
    assert.equal((await rawGet(gw.url, "/admin/api/status")).status, 200);
  } finally {
    await gw.stop();
  }
});
