// What a thread in a workspace sends to its agent (the fake agent records each request): the workspace's system
// prompt, memories and pinned files' text, its own agent URL and model; /remember; memories the agent proposes;
// and deletes that take everything belonging to a thread or a workspace with them.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { workspacesExtension } from "../../src/workspaces/extension.ts";
import { FakeAgent, type FakeAgentRequest, textOf } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { call, upload } from "./helpers.ts";

const systemOf = (r: FakeAgentRequest) =>
  r.body.messages.filter((m) => m.role === "system").map((m) => textOf(m.content));

describe("workspace context reaches the agent", () => {
  let agent: FakeAgent;
  let other: FakeAgent;
  let gw: TestGateway;
  let chat: WebchatClient;

  before(async () => {
    agent = await new FakeAgent({ apiKey: "sk-gateway-secret-key" }).start();
    other = await new FakeAgent().start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        apiKey: "sk-gateway-secret-key",
        agent: { systemPrompt: "Gateway default." },
      },
      extensions: [workspacesExtension()],
    });
    chat = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await other?.stop();
  });

  const workspace = async (body: Record<string, unknown>) =>
    (await call(gw.url, "POST", "/api/workspaces", body)).json;
  const thread = async (ws: string) =>
    (await call(gw.url, "POST", `/api/workspaces/${ws}/threads`, {})).json.id as string;
  const ask = async (t: string, text: string) => {
    const sent = await chat.send(t, text);
    assert.equal(sent.status, 202, JSON.stringify(sent));
    return chat.reply(t, sent.eventId);
  };

  it("sends the workspace's prompt, saved memories and pinned file text, in that order", async () => {
    const ws = await workspace({ name: "Falcon", systemPrompt: "You are the Falcon project assistant." });
    const f = (await upload(gw.url, ws.id, "brief.txt", "Launch date: 3 March. Budget: 12k.")).json;
    await upload(gw.url, ws.id, "unpinned.txt", "SECRET-NOT-PINNED");
    await call(gw.url, "PATCH", `/api/workspaces/${ws.id}/files/${f.id}`, { pinned: true });
    await call(gw.url, "POST", `/api/workspaces/${ws.id}/memories`, {
      text: "The user prefers metric units",
    });
    const t = await thread(ws.id);
    const before = agent.requests.length;
    const reply = await ask(t, "when do we launch?");
    assert.equal(reply.content, "echo: when do we launch?");
    const req = agent.requests[before]!;
    assert.deepEqual(systemOf(req), [
      "You are the Falcon project assistant.\n\n" +
        "Things the user asked you to remember:\n- The user prefers metric units\n\n" +
        'File "brief.txt" (pinned by the user as standing context):\nLaunch date: 3 March. Budget: 12k.',
    ]);
    assert.ok(!JSON.stringify(req.body).includes("SECRET-NOT-PINNED"));
    assert.equal(
      req.headers.authorization,
      "Bearer sk-gateway-secret-key",
      "the configured agent keeps its key",
    );
  });

  it("a thread outside any workspace gets the gateway's own prompt only", async () => {
    const t = await chat.createThread();
    const before = agent.requests.length;
    await ask(t, "hello");
    assert.deepEqual(systemOf(agent.requests[before]!), ["Gateway default."]);
  });

  it("uses the workspace's own agent URL and model, without the gateway's API key", async () => {
    const ws = await workspace({ name: "Local", agentUrl: other.url, model: "tiny-model" });
    const t = await thread(ws.id);
    const before = agent.requests.length;
    await ask(t, "which model?");
    assert.equal(agent.requests.length, before, "the gateway's agent was not asked");
    const req = other.requests.at(-1)!;
    assert.equal(req.body.model, "tiny-model");
    assert.equal(req.headers.authorization, undefined);
    assert.deepEqual(systemOf(req), ["Gateway default."], "no prompt of its own: the gateway's");
  });

  it("/remember saves a fact the next message carries; outside a workspace it says what to do", async () => {
    const ws = await workspace({ name: "Mem" });
    const t = await thread(ws.id);
    const saved = await ask(t, "/remember my dog is called Pixel");
    assert.equal(saved.content, "Remembered: my dog is called Pixel");
    const memories = (await call(gw.url, "GET", `/api/workspaces/${ws.id}/memories`)).json.memories;
    assert.deepEqual(
      memories.map((m: { text: string; state: string }) => [m.text, m.state]),
      [["my dog is called Pixel", "saved"]],
    );
    const before = agent.requests.length;
    await ask(t, "what is my dog called?");
    assert.match(systemOf(agent.requests[before]!)[0]!, /- my dog is called Pixel/);
    const plain = await chat.createThread();
    const refused = await ask(plain, "/remember nothing");
    assert.match(refused.content, /this chat is in none/);
  });

  it("a [[remember: …]] line becomes a proposal that counts only once confirmed", async () => {
    const ws = await workspace({ name: "Proposals" });
    const t = await thread(ws.id);
    agent.options.reply = () => "Noted, Berlin it is.\n[[remember: The user lives in Berlin]]\n";
    let reply: Awaited<ReturnType<typeof ask>>;
    try {
      reply = await ask(t, "I moved to Berlin");
    } finally {
      agent.options.reply = undefined;
    }
    assert.equal(
      reply.content,
      'Noted, Berlin it is.\n\nProposed memory: "The user lives in Berlin" (confirm it in the Memory panel)',
    );
    const [m] = (await call(gw.url, "GET", `/api/workspaces/${ws.id}/memories`)).json.memories;
    assert.equal(m.state, "proposed");
    assert.equal(m.source, "agent");
    let before = agent.requests.length;
    await ask(t, "where do I live?");
    assert.ok(!systemOf(agent.requests[before]!).join("").includes("Berlin"), "unconfirmed: not sent");
    assert.equal(
      (await call(gw.url, "POST", `/api/workspaces/${ws.id}/memories/${m.id}/confirm`)).json.state,
      "saved",
    );
    before = agent.requests.length;
    await ask(t, "where do I live?");
    assert.match(systemOf(agent.requests[before]!)[0]!, /- The user lives in Berlin/);
  });

  it("deleting a thread drops its workspace link and its unconfirmed proposals; deleting a workspace drops everything", async () => {
    const ws = await workspace({ name: "Doomed" });
    const t1 = await thread(ws.id);
    const t2 = await thread(ws.id);
    agent.options.reply = () => "ok\n[[remember: a proposal from t1]]";
    try {
      await ask(t1, "hi");
    } finally {
      agent.options.reply = undefined;
    }
    await ask(t2, "hello");
    const rows = gw.gateway.store.workspaces;
    assert.equal((await rows.memories(ws.id)).length, 1);
    assert.equal((await call(gw.url, "DELETE", `/api/threads/${t1}`)).status, 200);
    assert.equal(await rows.workspaceOf(`webchat:default:${t1}`), undefined);
    assert.equal((await rows.memories(ws.id)).length, 0, "the thread's proposal went with it");

    const f = (await upload(gw.url, ws.id, "a.txt", "standing")).json;
    await call(gw.url, "POST", `/api/workspaces/${ws.id}/memories`, {
      text: "kept until the workspace goes",
    });
    const gone = await call(gw.url, "DELETE", `/api/workspaces/${ws.id}`);
    assert.deepEqual(gone.json, { ok: true, deletedThreads: 1 });
    assert.equal(await gw.gateway.store.mediaGet(f.mediaId), undefined, "the file's bytes are gone");
    assert.equal(await rows.file(ws.id, f.id), undefined);
    assert.deepEqual(await rows.memories(ws.id), []);
    assert.deepEqual(await rows.threads(ws.id), []);
    assert.equal(
      await gw.gateway.store.getSession(`webchat:default:${t2}`),
      undefined,
      "its threads are gone",
    );
    assert.deepEqual(await gw.gateway.store.listMessages(`webchat:default:${t2}`), []);
  });
});
