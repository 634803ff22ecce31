// Nothing expensive before authentication: a caller who cannot authenticate is answered from its headers,
// before it has sent a byte of the body it announces, and the connection is closed so it stops sending.
// (Before, /openclaw/bridge/deliver buffered up to 25 MB per request first: 48 such POSTs took 1.1 GB.)
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { FakeAsyncAgent } from "../fakes/async-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { newThread, say } from "../security/chat.ts";
import { headOnly } from "./raw.ts";

const ADMIN = "admin-token-0123456789abcdef";
const WEBCHAT = "webchat-token-0123456789abcdef";
const SECRET = "callback-secret-0123456789";
const HUGE = 24 * 1024 * 1024;

describe("authentication before the body", () => {
  let gw: TestGateway;
  let agent: FakeAsyncAgent;
  let callbacks: string;
  before(async () => {
    agent = await new FakeAsyncAgent({ secret: SECRET }).start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        adminToken: ADMIN,
        webchat: { token: WEBCHAT },
        async: true,
        callbackSecret: SECRET,
        callbackHost: "127.0.0.1",
        callbackPort: 0,
        // Without the rule the server waits for the body; a short timeout turns that wait into a quick 408.
        server: { requestTimeoutMs: 4000 },
      },
      env: { OPENCLAW_BRIDGE_ENABLED: "1", OPENCLAW_BRIDGE_DEVICE_TOKEN: "static-bridge-token-0123456789" },
      extensions: [securityExtension()],
    });
    // The callback listener's address, as the agent is told it.
    await say(gw.url, await newThread(gw.url), "hello");
    await agent.waitForRequests(1);
    callbacks = new URL(agent.requests[0]!.callbackUrl).origin;
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  const head = (method: string, path: string, headers: string[]) =>
    [`${method} ${path} HTTP/1.1`, `Host: ${new URL(gw.url).host}`, ...headers].join("\n");

  test("bridge deliver: a huge unauthenticated body is answered 401 while only its headers were sent", async () => {
    for (const path of ["/openclaw/bridge/deliver", "/bridge/submit"]) {
      for (const framing of [`Content-Length: ${HUGE}`, "Transfer-Encoding: chunked"]) {
        const r = await headOnly(gw.url, head("POST", path, ["Content-Type: application/json", framing]));
        assert.equal(r.status, 401, `${path} ${framing}:\n${r.text}`);
        assert.match(r.text, /connection: close/i);
        assert.match(r.text, /X-OpenClaw-Device-Token/);
        await r.closed; // the server hangs up: a client still sending stops
      }
    }
    const wrong = await headOnly(
      gw.url,
      head("POST", "/bridge/deliver", [
        "Content-Type: application/json",
        `Content-Length: ${HUGE}`,
        "X-OpenClaw-Device-Id: dev_x",
        "X-OpenClaw-Device-Token: not-a-token",
      ]),
    );
    assert.equal(wrong.status, 401, wrong.text);
  });

  test("a client that asks before sending (Expect: 100-continue) is refused without being invited", async () => {
    const r = await headOnly(
      gw.url,
      head("POST", "/bridge/deliver", [
        "Content-Type: application/json",
        `Content-Length: ${HUGE}`,
        "Expect: 100-continue",
      ]),
    );
    assert.equal(r.status, 401);
    assert.doesNotMatch(r.text, /100 Continue/);
    const ok = await headOnly(
      gw.url,
      head("POST", "/api/threads", [
        `Authorization: Bearer ${WEBCHAT}`,
        "Content-Type: application/json",
        "Content-Length: 2",
        "Expect: 100-continue",
      ]),
    );
    assert.equal(ok.status, 100, "an authorized caller is told to go on");
    ok.socket.destroy();
  });

  test("admin, web chat and async callbacks refuse from the headers too", async () => {
    const cases: [string, string, string[]][] = [
      ["admin without a token", "/admin/api/pair", ["Content-Type: application/json"]],
      [
        "admin with a wrong token",
        "/admin/api/pair",
        ["Content-Type: application/json", "X-OpenClaw-Admin-Token: wrong-wrong-wrong-wrong"],
      ],
      [
        "web chat relayed by a proxy, no token",
        "/api/threads/abc/messages",
        ["Content-Type: application/json", "X-Forwarded-For: 203.0.113.5"],
      ],
    ];
    for (const [what, path, headers] of cases) {
      for (const framing of [`Content-Length: ${HUGE}`, "Transfer-Encoding: chunked"]) {
        const r = await headOnly(gw.url, head("POST", path, [...headers, framing]));
        assert.ok(r.status === 401 || r.status === 403, `${what} ${framing}:\n${r.text}`);
        await r.closed;
      }
    }
    const token = "a".repeat(64);
    const cb = (headers: string[]) =>
      headOnly(callbacks, [`POST /ocg/callback/${token} HTTP/1.1`, "Host: 127.0.0.1", ...headers].join("\n"));
    const unsigned = await cb(["Content-Type: application/json", `Content-Length: ${1000_000}`]);
    assert.equal(unsigned.status, 401, unsigned.text);
    const malformed = await cb(["X-OCG-Signature: sha256=zz", "Transfer-Encoding: chunked"]);
    assert.equal(malformed.status, 401, malformed.text);
    const badToken = await headOnly(
      callbacks,
      ["POST /ocg/callback/not-hex HTTP/1.1", "Host: 127.0.0.1", `Content-Length: ${1000_000}`].join("\n"),
    );
    assert.equal(badToken.status, 404, badToken.text);
  });
});
