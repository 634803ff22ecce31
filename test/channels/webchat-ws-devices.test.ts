// Paired devices in the web chat: a device approved with the `chat` scope uses the API (HTTP and WebSocket) with
// its chat token; its threads are its own (another device gets 404), the operator's shared threads are everyone's,
// and revoking the device ends its open event stream and socket at once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type SecurityExtension, securityExtension } from "../../src/bridge/extension.ts";
import type { WebchatAdapter } from "../../src/channels/webchat/index.ts";
import { chatToken } from "../../src/pairing/chat-token.ts";
import type { Scope } from "../../src/pairing/scopes.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { openWs, WsClient } from "../helpers/webchat-ws.ts";

describe("paired devices in the web chat", () => {
  const agent = new FakeAgent();
  let gw: TestGateway;
  let ext: SecurityExtension;
  let operator: WebchatClient;

  const pairDevice = async (name: string, scopes: Scope[]) => {
    const devices = ext.pairing!.devices;
    const { request } = await devices.createRequest({ name, requestedScopes: [] });
    const approved = await devices.approve(request.id, "test", scopes);
    const issued = (await devices.issueToken(approved!.deviceId!))!;
    return {
      id: issued.deviceId,
      token: chatToken(issued),
      client: new WebchatClient(gw.url, chatToken(issued)),
    };
  };
  const get = async (path: string, token: string) => {
    const res = await fetch(gw.url + path, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const threadIds = async (token?: string) => {
    const res = await fetch(`${gw.url}/api/threads`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return ((await res.json()) as { threads: { id: string }[] }).threads.map((t) => t.id).sort();
  };

  before(async () => {
    await agent.start();
    ext = securityExtension();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        bridge: { enabled: true },
        webchat: { token: "device-test-operator-token" },
      },
      extensions: [ext],
    });
    operator = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  it("a device chats in its own threads; another device cannot see or write them (404)", async () => {
    const a = await pairDevice("phone A", ["chat"]);
    const b = await pairDevice("laptop B", ["chat"]);
    const thread = await a.client.createThread("A's plans");
    assert.ok(thread.startsWith(`${a.id}-`), thread);
    const sent = await a.client.send(thread, "hi from A");
    assert.equal(sent.status, 202);
    assert.equal((await a.client.reply(thread, sent.eventId)).content, "echo: hi from A");
    // The device writes as itself, also when it asks again: never as the operator ("local").
    const regen = await fetch(`${gw.url}/api/threads/${thread}/regenerate`, {
      method: "POST",
      headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(regen.status, 202);
    const again = ((await regen.json()) as { eventId: string }).eventId;
    await a.client.reply(thread, again);
    const rows = (await get(`/api/threads/${thread}/messages`, a.token)).body.messages as {
      role: string;
      author: string;
    }[];
    assert.deepEqual(
      rows.map((m) => (m.role === "user" ? [m.role, m.author] : [m.role])),
      [["user", "phone A"], ["assistant"]],
    );
    const inbound = await gw.gateway.store.listInbound({ sessionKey: `webchat:default:${thread}`, limit: 5 });
    assert.deepEqual(
      inbound.map((i) => (JSON.parse(i.payload) as { sender: { id: string } }).sender.id),
      [a.id, a.id],
    );

    const read = await get(`/api/threads/${thread}/messages`, b.token);
    assert.equal(read.status, 404);
    assert.equal(read.body.error, `no thread ${thread} for this device`);
    assert.equal((await b.client.send(thread, "sneaking in")).status, 404);
    const del = await fetch(`${gw.url}/api/threads/${thread}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${b.token}` },
    });
    assert.equal(del.status, 404);
    assert.deepEqual(await threadIds(b.token), []);
    assert.deepEqual(await threadIds(a.token), [thread]);
    // Over the socket too.
    const ws = await openWs(gw.url, { protocols: ["clawgate.v1", `bearer.${b.token}`] });
    assert.ok(ws instanceof WsClient);
    ws.send({ type: "subscribe", thread });
    assert.equal((await ws.next((f) => f.type === "error")).status, 404);
    ws.ws.close();
    // The operator reaches any thread by id, but its list is its own.
    assert.equal(
      (await operator.messages(thread)).messages.length,
      2,
      "regenerated: the first answer was replaced",
    );
    assert.ok(!(await threadIds()).includes(thread));
  });

  it("the operator's shared threads are every chat device's; only the operator shares", async () => {
    const a = await pairDevice("phone A2", ["chat"]);
    const mine = await operator.createThread("family list");
    assert.equal((await get(`/api/threads/${mine}/messages`, a.token)).status, 404);
    const share = (token: string | undefined, shared: boolean) =>
      fetch(`${gw.url}/api/threads/${mine}/share`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ shared }),
      });
    assert.equal((await share(a.token, true)).status, 404);
    assert.equal((await share(undefined, true)).status, 200);
    assert.deepEqual(await threadIds(a.token), [mine]);
    const sent = await a.client.send(mine, "milk");
    assert.equal(sent.status, 202);
    assert.equal((await a.client.reply(mine, sent.eventId)).content, "echo: milk");
    // A device may not unshare it either: sharing is the operator's.
    const refused = await share(a.token, false);
    assert.equal(refused.status, 403);
    assert.equal(
      ((await refused.json()) as { error: string }).error,
      "only the operator (loopback or webchat.token) shares threads",
    );
    const del = await fetch(`${gw.url}/api/threads/${mine}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${a.token}` },
    });
    assert.equal(del.status, 403, "a device does not delete a shared thread");
    assert.equal((await share(undefined, false)).status, 200);
    assert.equal((await get(`/api/threads/${mine}/messages`, a.token)).status, 404);
  });

  it("a device without the chat scope is refused with 403 naming the scope", async () => {
    const c = await pairDevice("comfy box", ["job:submit"]);
    const r = await get("/api/threads", c.token);
    assert.equal(r.status, 403);
    assert.equal(
      r.body.error,
      `device ${c.id} lacks the chat scope: approve it with scopes=chat (or pair it again)`,
    );
  });

  it("revoking a device ends its open event stream and socket at once, and its token stops working", async () => {
    const a = await pairDevice("phone R", ["chat"]);
    const thread = await a.client.createThread();
    const res = await fetch(`${gw.url}/api/threads/${thread}/events`, {
      headers: { authorization: `Bearer ${a.token}` },
    });
    assert.equal(res.status, 200);
    const streamEnded = (async () => {
      for await (const _chunk of res.body as AsyncIterable<Uint8Array>) {
        // reading until the server ends the stream
      }
      return "ended";
    })();
    const ws = await openWs(gw.url, { headers: { authorization: `Bearer ${a.token}` } });
    assert.ok(ws instanceof WsClient);
    ws.send({ type: "subscribe", thread });
    await ws.next((f) => f.type === "ack");
    // Another device's stream stays open.
    const other = await pairDevice("phone S", ["chat"]);
    const otherWs = await openWs(gw.url, { headers: { authorization: `Bearer ${other.token}` } });
    assert.ok(otherWs instanceof WsClient);

    await ext.pairing!.devices.revoke(a.id);
    assert.equal(await streamEnded, "ended");
    assert.deepEqual(await ws.closed, { code: 4401, reason: "this device was revoked: pair it again" });
    const after = await get("/api/threads", a.token);
    assert.equal(after.status, 401);
    assert.equal(after.body.error, "this device's chat token was revoked: pair the device again");
    assert.equal(otherWs.ws.readyState, otherWs.ws.OPEN);
    otherWs.ws.close();
  });

  it("a revoke this process did not see (another replica's) ends the device's sessions at the next check", async () => {
    const a = await pairDevice("phone T", ["chat"]);
    const thread = await a.client.createThread();
    const ws = await openWs(gw.url, { headers: { authorization: `Bearer ${a.token}` } });
    assert.ok(ws instanceof WsClient);
    ws.send({ type: "subscribe", thread });
    await ws.next((f) => f.type === "ack");
    const stays = await pairDevice("phone U", ["chat"]);
    const staying = await openWs(gw.url, { headers: { authorization: `Bearer ${stays.token}` } });
    assert.ok(staying instanceof WsClient);
    // Written straight to the shared store, as another replica's revoke would be: no announcement here.
    const raw = (await gw.gateway.store.kvGet("devices", a.id))!;
    const record = JSON.parse(raw) as { revokedAt?: number };
    record.revokedAt = Date.now();
    await gw.gateway.store.kvSet("devices", a.id, JSON.stringify(record));
    const adapter = gw.gateway.adapter("webchat", "default") as WebchatAdapter;
    await adapter.recheckDevices();
    assert.equal((await ws.closed).code, 4401);
    assert.equal(staying.ws.readyState, staying.ws.OPEN);
    staying.ws.close();
  });
});
