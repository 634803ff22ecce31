// The web chat's WebSocket (GET /api/ws): the same events as SSE for the threads a socket subscribes to, sends,
// and the boundary in front of it — decided before the 101, so a refused caller never holds a socket.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { opened, openWs, WsClient } from "../helpers/webchat-ws.ts";

// A request a reverse proxy relayed is not local, so it must show the token.
const REMOTE = { "x-forwarded-for": "203.0.113.7" };

describe("web chat WebSocket", () => {
  const agent = new FakeAgent({ chunkSize: 2 });
  const token = "ws-test-token-0123456789";
  let gw: TestGateway;
  let chat: WebchatClient;

  before(async () => {
    await agent.start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        webchat: { token },
        media: { inbound: { maxImageMb: 1, maxAudioMb: 1, maxVideoMb: 1, maxFileMb: 1 } },
      },
    });
    chat = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  it("streams a thread's answer to a subscribed socket, the same events as SSE with the thread named", async () => {
    const thread = await chat.createThread();
    const c = opened(await openWs(gw.url, { headers: { ...REMOTE, authorization: `Bearer ${token}` } }));
    c.send({ type: "subscribe", thread });
    assert.deepEqual(await c.next((f) => f.type === "ack"), { type: "ack", of: "subscribe", thread });
    const sent = await chat.send(thread, "streamed over a socket");
    assert.equal(sent.status, 202);
    const reply = await c.next((f) => f.type === "reply" && f.eventId === sent.eventId);
    assert.equal(reply.text, "echo: streamed over a socket");
    assert.equal(reply.thread, thread);
    const accepted = c.frames.find((f) => f.type === "accepted");
    assert.deepEqual(accepted, {
      type: "accepted",
      eventId: sent.eventId,
      text: "streamed over a socket",
      thread,
    });
    // The deltas put together are the answer.
    let text = "";
    for (const d of c.frames.filter((f) => f.type === "delta" && f.eventId === sent.eventId))
      text = text.slice(0, d.offset as number) + (d.text as string);
    assert.equal(text, "echo: streamed over a socket");
    c.ws.close();
  });

  it("sends over the socket: an ack with the event id, then the answer", async () => {
    const thread = await chat.createThread();
    // A browser cannot set headers on a WebSocket: the token rides in the offered subprotocols.
    const c = opened(
      await openWs(gw.url, { headers: REMOTE, protocols: ["clawgate.v1", `bearer.${token}`] }),
    );
    assert.equal(c.ws.protocol, "clawgate.v1");
    c.send({ type: "subscribe", thread });
    await c.next((f) => f.type === "ack" && f.of === "subscribe");
    c.send({ type: "send", thread, text: "hello socket", clientMessageId: "wsclient0001" });
    const ack = await c.next((f) => f.type === "ack" && f.of === "send");
    assert.deepEqual(ack, {
      type: "ack",
      of: "send",
      thread,
      eventId: `webchat:default:${thread}:wsclient0001`,
      duplicate: false,
      clientMessageId: "wsclient0001",
    });
    const reply = await c.next((f) => f.type === "reply" && f.eventId === ack.eventId);
    assert.equal(reply.text, "echo: hello socket");
    const history = await chat.messages(thread);
    assert.deepEqual(
      history.messages.map((m) => [m.role, m.content]),
      [
        ["user", "hello socket"],
        ["assistant", "echo: hello socket"],
      ],
    );
    c.ws.close();
  });

  it("refuses a wrong token with 401 before the upgrade: no socket", async () => {
    const r = await openWs(gw.url, { headers: { ...REMOTE, authorization: "Bearer not-the-token-at-all" } });
    assert.ok(!(r instanceof WsClient));
    assert.equal(r.status, 401);
    assert.match(JSON.parse(r.body).error, /web chat token required/);
    const none = await openWs(gw.url, { headers: REMOTE });
    assert.ok(!(none instanceof WsClient));
    assert.equal(none.status, 401);
  });

  it("refuses a page of another origin with 403, even with the token or from loopback", async () => {
    const r = await openWs(gw.url, {
      origin: "https://evil.example",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(!(r instanceof WsClient));
    assert.equal(r.status, 403);
    assert.match(JSON.parse(r.body).error, /another origin \(https:\/\/evil\.example\)/);
    const same = opened(await openWs(gw.url, { origin: gw.url }));
    same.ws.close();
  });

  it("closes with 1009 on a frame over the size limit", async () => {
    const c = opened(await openWs(gw.url));
    c.send({ type: "send", thread: "big", text: "x".repeat(3 * 1024 * 1024) });
    const { code } = await c.closed;
    assert.equal(code, 1009);
  });

  it("answers malformed JSON, unknown types and bad threads with an error frame and stays open", async () => {
    const c = opened(await openWs(gw.url));
    c.send("{not json");
    const bad = await c.next((f) => f.type === "error");
    assert.match(bad.error as string, /JSON object with a "type"/);
    c.send({ type: "dance", thread: "t1" });
    const unknown = await c.next((f) => f.type === "error" && f.of === "dance");
    assert.match(unknown.error as string, /unknown frame type "dance"/);
    c.send({ type: "subscribe", thread: "../etc" });
    const path = await c.next((f) => f.type === "error" && f.of === "subscribe");
    assert.equal(path.status, 400);
    c.send({ type: "send", thread: "t1", text: "" });
    const empty = await c.next((f) => f.type === "error" && f.of === "send");
    assert.equal(empty.error, "text must be a non-empty string (or send attachments)");
    assert.equal(c.ws.readyState, WebSocket.OPEN);
    c.ws.close();
  });

  it("answers a plain GET with 426", async () => {
    const res = await fetch(`${gw.url}/api/ws`);
    assert.equal(res.status, 426);
    assert.equal(res.headers.get("upgrade"), "websocket");
  });
});

describe("CLAWCHATS_AUTH_TOKEN", () => {
  let gw: TestGateway;
  const alias = "clawchats-alias-token-0123456789";
  before(async () => {
    gw = await startTestGateway({ env: { CLAWCHATS_AUTH_TOKEN: alias } });
  });
  after(() => gw.stop());

  it("is accepted as the web chat token, over HTTP and the WebSocket", async () => {
    const res = await fetch(`${gw.url}/api/threads`, {
      headers: { ...REMOTE, authorization: `Bearer ${alias}` },
    });
    assert.equal(res.status, 200);
    const refused = await fetch(`${gw.url}/api/threads`, { headers: REMOTE });
    assert.equal(refused.status, 401);
    const c = opened(await openWs(gw.url, { headers: { ...REMOTE, authorization: `Bearer ${alias}` } }));
    c.ws.close();
  });

  it("counts wrong tokens on upgrades with the API's: after 10, the address is refused (429), a right token too", async () => {
    for (let i = 0; i < 10; i++) {
      const r = await openWs(gw.url, {
        headers: REMOTE,
        protocols: ["clawgate.v1", `bearer.wrong-guess-${i}`],
      });
      assert.equal((r as { status: number }).status, 401);
    }
    const blocked = await openWs(gw.url, { headers: { ...REMOTE, authorization: `Bearer ${alias}` } });
    assert.equal((blocked as { status: number }).status, 429);
    const http = await fetch(`${gw.url}/api/threads`, {
      headers: { ...REMOTE, authorization: `Bearer ${alias}` },
    });
    assert.equal(http.status, 429);
  });
});
