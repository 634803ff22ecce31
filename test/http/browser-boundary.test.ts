// What a web page the operator happens to visit can do to a gateway on 127.0.0.1 in the default set-up (no
// admin token): cross-site form posts (text/plain, no preflight), fetches from a foreign origin, and DNS
// rebinding (the attacker's name resolving to 127.0.0.1, so the browser sends Host: attacker…). All refused;
// the same requests made the way the CLI, curl and the web chat page make them work.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { securityExtension } from "../../src/bridge/extension.ts";
import { channelModules } from "../../src/channels/registry.ts";
import { dmChannelModule, type SentRecord } from "../fakes/dm-channel.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { raw } from "./raw.ts";

const sent: SentRecord[] = [];
channelModules.csrfdm = dmChannelModule("csrfdm", sent);
// A channel whose webhook path the operator put under /api/: still a webhook, not the web chat.
channelModules.api = dmChannelModule("api", sent);

const EVIL = "http://evil.example";
const JSON_TYPE = { "content-type": "application/json" };

describe("browser boundary (no admin token)", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  let port: string;
  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        channels: { csrfdm: { dmPolicy: "pairing" }, api: { dmPolicy: "open" } },
        server: { publicBaseUrl: "https://gw.example.net", allowedHosts: ["box.lan"] },
      },
      env: { OPENCLAW_BRIDGE_ENABLED: "1" },
      extensions: [securityExtension()],
    });
    port = new URL(gw.url).port;
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  const pendingCodes = async () => {
    const r = await raw(gw.url, { path: "/admin/api/pair/pending" });
    assert.equal(r.status, 200, r.body);
    return (r.json.items as { id: string; kind: string }[]).filter((i) => i.kind === "dm").map((i) => i.id);
  };

  test("a cross-site form post cannot approve a stranger's pairing code", async () => {
    await raw(gw.url, {
      method: "POST",
      path: "/csrfdm/in",
      headers: JSON_TYPE,
      body: JSON.stringify({ senderId: "stranger", text: "let me in" }),
    });
    const code = await waitFor(
      () => /pairing code is ([A-Z2-9]{8})/.exec(sent.at(-1)?.message.text ?? "")?.[1],
      8000,
      "the stranger's pairing code",
    );
    const form = { id: code };
    // What <form enctype="text/plain" action="http://127.0.0.1:8787/admin/api/pair/approve"> sends.
    const crossSite = await raw(gw.url, {
      method: "POST",
      path: "/admin/api/pair/approve",
      headers: { "content-type": "text/plain", origin: EVIL },
      body: JSON.stringify(form),
    });
    assert.equal(crossSite.status, 403, crossSite.body);
    assert.match(String(crossSite.json.error), /another origin/);
    // A browser that hides the Origin still names the content type it was allowed to send without asking.
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const r = await raw(gw.url, {
        method: "POST",
        path: "/admin/api/pair/approve",
        headers: { "content-type": type },
        body: JSON.stringify(form),
      });
      assert.equal(r.status, 415, `${type}: ${r.body}`);
      assert.match(String(r.json.error), /Content-Type: application\/json/);
    }
    assert.deepEqual(await pendingCodes(), [code], "the pairing is still pending");
    const toStranger = () => sent.filter((s) => s.to.conversationId === "dm-stranger").length;
    assert.equal(toStranger(), 1, "the stranger got their code and nothing since");

    // The CLI's request: JSON with its content type, no Origin.
    const cli = await raw(gw.url, {
      method: "POST",
      path: "/admin/api/pair/approve",
      headers: { "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify(form),
    });
    assert.equal(cli.status, 200, cli.body);
    assert.deepEqual(await pendingCodes(), []);
    await waitFor(() => toStranger() === 2, 8000, "the stranger told they were approved");
  });

  test("a foreign Origin is refused on admin, bridge and web chat routes; the page's own origin works", async () => {
    const thread = await raw(gw.url, {
      method: "POST",
      path: "/api/threads",
      headers: JSON_TYPE,
      body: "{}",
    });
    assert.equal(thread.status, 201);
    const id = thread.json.id as string;
    const send = (origin: string | undefined, text: string) =>
      raw(gw.url, {
        method: "POST",
        path: `/api/threads/${id}/messages`,
        headers: { ...JSON_TYPE, ...(origin ? { origin } : {}) },
        body: JSON.stringify({ text }),
      });
    for (const origin of [
      EVIL,
      "null",
      `http://localhost:${Number(port) + 1}`,
      `http://evil.example:${port}`,
    ]) {
      const r = await send(origin, `from ${origin}`);
      assert.equal(r.status, 403, `${origin}: ${r.body}`);
    }
    for (const path of ["/admin/api/status", "/bridge/health", "/api/threads"]) {
      const r = await raw(gw.url, { path, headers: { origin: EVIL } });
      assert.equal(r.status, 403, `${path}: ${r.body}`);
    }
    const history = await raw(gw.url, { path: `/api/threads/${id}/messages` });
    assert.deepEqual(history.json.messages, [], "nothing from a foreign page reached the thread");

    // The web chat page at http://127.0.0.1:<port> (and localhost), and the public URL behind a TLS proxy.
    assert.equal((await send(`http://127.0.0.1:${port}`, "from the page")).status, 202);
    const viaLocalhost = await raw(gw.url, {
      method: "POST",
      path: `/api/threads/${id}/messages`,
      headers: { ...JSON_TYPE, host: `localhost:${port}`, origin: `http://localhost:${port}` },
      body: JSON.stringify({ text: "via localhost" }),
    });
    assert.equal(viaLocalhost.status, 202, viaLocalhost.body);
    assert.equal((await send("https://gw.example.net", "via the public URL")).status, 202);
    assert.equal((await send(undefined, "from curl")).status, 202, "no Origin: not a browser");
  });

  test("a rebound Host is refused with 421 on admin, bridge, web chat and media routes, not on webhooks", async () => {
    const rebound = { host: `attacker.example:${port}` };
    for (const [method, path] of [
      ["GET", "/admin/api/status"],
      ["POST", "/admin/api/pair"],
      ["GET", "/bridge/health"],
      ["GET", "/api/threads"],
      ["GET", "/"],
      ["GET", "/media/not-a-token"],
    ] as const) {
      const r = await raw(gw.url, {
        method,
        path,
        headers: { ...rebound, ...(method === "POST" ? JSON_TYPE : {}) },
        body: method === "POST" ? "{}" : undefined,
      });
      assert.equal(r.status, 421, `${method} ${path}: ${r.body}`);
      assert.match(r.body, /server\.allowedHosts/);
    }
    assert.equal((await raw(gw.url, { path: "/media/not-a-token" })).status, 403, "media with our own Host");
    // Platforms call webhooks through proxies and tunnels under whatever name: no Host rule there.
    const hook = await raw(gw.url, {
      method: "POST",
      path: "/csrfdm/in",
      headers: { ...rebound, ...JSON_TYPE },
      body: JSON.stringify({ senderId: "someone", text: "hi" }),
    });
    assert.equal(hook.status, 200, hook.body);
    const underApi = await raw(gw.url, {
      method: "POST",
      path: "/api/in",
      headers: { ...rebound, "content-type": "text/plain", origin: EVIL },
      body: JSON.stringify({ senderId: "someone", text: "hi" }),
    });
    assert.equal(underApi.status, 200, underApi.body);
    assert.equal((await raw(gw.url, { path: "/healthz", headers: rebound })).status, 200);

    // The gateway's own names: loopback spellings, the public URL's host, server.allowedHosts.
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `LOCALHOST.:${port}`,
      `[::1]:${port}`,
      "gw.example.net",
      `box.lan:${port}`,
    ]) {
      const r = await raw(gw.url, { path: "/admin/api/status", headers: { host } });
      assert.equal(r.status, 200, `${host}: ${r.body}`);
    }
  });

  test("web chat and bridge writes take JSON only with a JSON content type", async () => {
    const before = await raw(gw.url, { path: "/api/threads" });
    const count = (before.json.threads as unknown[]).length;
    const plain = await raw(gw.url, {
      method: "POST",
      path: "/api/threads",
      headers: { "content-type": "text/plain;charset=UTF-8" },
      body: "{}",
    });
    assert.equal(plain.status, 415, plain.body);
    const untyped = await raw(gw.url, { method: "POST", path: "/api/threads", body: "{}" });
    assert.equal(untyped.status, 415, "a body without a content type");
    const after = await raw(gw.url, { path: "/api/threads" });
    assert.equal((after.json.threads as unknown[]).length, count, "no thread was created");
    for (const type of [
      "application/json",
      "Application/JSON; charset=utf-8",
      "application/vnd.clawgate+json",
    ]) {
      const r = await raw(gw.url, {
        method: "POST",
        path: "/api/threads",
        headers: { "content-type": type },
        body: "{}",
      });
      assert.equal(r.status, 201, `${type}: ${r.body}`);
    }
    // A write without a body (DELETE, an empty POST) needs no content type.
    const t = await raw(gw.url, { method: "POST", path: "/api/threads", headers: JSON_TYPE, body: "{}" });
    const del = await raw(gw.url, { method: "DELETE", path: `/api/threads/${t.json.id}` });
    assert.equal(del.status, 200, del.body);
    const handshake = await raw(gw.url, {
      method: "POST",
      path: "/bridge/handshake",
      headers: { "content-type": "text/plain" },
      body: JSON.stringify({ bootstrap_token: "x" }),
    });
    assert.equal(handshake.status, 415, handshake.body);
  });
});
