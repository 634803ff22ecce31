// Dead letters from the console (discard keeps the row and its error; retry-dead puts them all back), payload
// previews in the lists, and the conversation browser: search by text and by author, and which target answered
// each message and how long it took.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { api, signIn } from "./helpers.ts";

const TOKEN = "console-queues-admin-token";
let broken = true;
const flaky: GatewayExtension = {
  name: "flaky-command",
  setup(gw) {
    gw.commands.register({
      name: "/flaky",
      description: "fails until fixed",
      handler: () => {
        if (broken) throw new Error("the backend is down");
        return { text: "worked this time" };
      },
    });
  },
};

describe("dead letters and conversations from the console", () => {
  let gw: TestGateway;
  let agent: FakeAgent;
  let cookie: string;
  let chat: WebchatClient;
  before(async () => {
    agent = await new FakeAgent().start();
    gw = await startTestGateway({
      config: {
        adminToken: TOKEN,
        agentUrl: agent.url,
        agent: { stream: false },
        inbox: { maxAttempts: 1 },
        policy: { overrides: { "/flaky": "public" } },
      },
      extensions: [flaky],
    });
    cookie = await signIn(gw.url, TOKEN);
    chat = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  const dead = async (text: string) => {
    const thread = await chat.createThread();
    const sent = await chat.send(thread, text);
    await waitFor(
      async () => (await gw.gateway.store.getInbound(sent.eventId))?.state === "dead",
      10_000,
      "dead",
    );
    return { thread, eventId: sent.eventId };
  };

  it("lists show a payload preview; discard finishes a dead item and keeps its error", async () => {
    const a = await dead("/flaky first");
    const list = await api(gw.url, "GET", "/admin/api/inbox?state=dead", { cookie });
    assert.equal(list.status, 200);
    const item = (list.json.items as Record<string, unknown>[]).find((i) => i.id === a.eventId)!;
    assert.equal(item.lastError, "the backend is down");
    assert.equal(item.payload, undefined, "the full payload is not listed");
    const stored = (await gw.gateway.store.getInbound(a.eventId))!;
    assert.equal(item.preview, stored.payload.slice(0, 300));
    assert.ok((item.preview as string).includes("/flaky first"));

    const discard = await api(gw.url, "POST", `/admin/api/inbox/${encodeURIComponent(a.eventId)}/discard`, {
      cookie,
    });
    assert.equal(discard.status, 200);
    const after = (await gw.gateway.store.getInbound(a.eventId))!;
    assert.equal(after.state, "done");
    assert.equal(after.lastError, "the backend is down");
    const twice = await api(gw.url, "POST", `/admin/api/inbox/${encodeURIComponent(a.eventId)}/discard`, {
      cookie,
    });
    assert.equal(twice.status, 404);
    assert.match(String(twice.json.error), /no dead-lettered inbox item/);
    const outbox = await api(gw.url, "POST", "/admin/api/outbox/12345/discard", { cookie });
    assert.equal(outbox.status, 404);
  });

  it("retry-dead puts every dead item back, and they are processed", async () => {
    broken = true;
    const b = await dead("/flaky second");
    const c = await dead("/flaky third");
    broken = false;
    const r = await api(gw.url, "POST", "/admin/api/inbox/retry-dead", { cookie });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ok: true, retried: 2 });
    assert.match((await chat.reply(b.thread, b.eventId)).content, /worked this time/);
    assert.match((await chat.reply(c.thread, c.eventId)).content, /worked this time/);
    const audit = (await api(gw.url, "GET", "/admin/api/audit?limit=5", { cookie })).json.entries as {
      path: string;
      summary?: string;
    }[];
    assert.ok(audit.some((e) => e.path === "/admin/api/inbox/retry-dead" && e.summary === "retried 2"));
  });

  it("conversations: search by message text and by author; messages say which target answered", async () => {
    const t1 = await chat.createThread("harbour talk");
    const s1 = await chat.send(t1, "tell me about the quiet Harbour");
    await chat.reply(t1, s1.eventId);
    const t2 = await chat.createThread("other");
    const s2 = await chat.send(t2, "something else entirely");
    await chat.reply(t2, s2.eventId);

    const found = await api(gw.url, "GET", "/admin/api/conversations?q=HARBOUR", { cookie });
    assert.equal(found.status, 200);
    const convs = found.json.conversations as Record<string, unknown>[];
    assert.equal(convs.length, 1);
    assert.equal(convs[0]!.channel, "webchat");
    assert.equal(convs[0]!.title, "harbour talk");
    assert.equal(convs[0]!.conversationId, t1);
    // A LIKE wildcard in the query is a plain character.
    const pct = await api(gw.url, "GET", "/admin/api/conversations?q=%25", { cookie });
    assert.deepEqual(pct.json.conversations, []);
    const all = await api(gw.url, "GET", "/admin/api/conversations?channel=webchat", { cookie });
    assert.ok((all.json.conversations as unknown[]).length >= 2);
    const none = await api(gw.url, "GET", "/admin/api/conversations?channel=telegram", { cookie });
    assert.deepEqual(none.json.conversations, []);

    const key = String(convs[0]!.key);
    const msgs = await api(gw.url, "GET", `/admin/api/conversations/${encodeURIComponent(key)}/messages`, {
      cookie,
    });
    assert.equal(msgs.status, 200);
    const [user, assistant] = msgs.json.messages as Record<string, unknown>[];
    assert.equal(user!.role, "user");
    assert.equal(user!.content, "tell me about the quiet Harbour");
    assert.equal(user!.target, undefined);
    assert.equal(assistant!.role, "assistant");
    assert.equal(assistant!.content, "echo: tell me about the quiet Harbour");
    assert.equal(assistant!.target, "openai");
    assert.equal(typeof assistant!.latencyMs, "number");

    const byAuthor = await api(
      gw.url,
      "GET",
      `/admin/api/conversations?user=${encodeURIComponent(String(user!.author))}&q=quiet`,
      { cookie },
    );
    assert.deepEqual(
      (byAuthor.json.conversations as { key: string }[]).map((c) => c.key),
      [key],
    );
    const nobody = await api(gw.url, "GET", "/admin/api/conversations?user=nobody-like-this", { cookie });
    assert.deepEqual(nobody.json.conversations, []);
    const missing = await api(gw.url, "GET", "/admin/api/conversations/webchat%3Anope/messages", { cookie });
    assert.equal(missing.status, 404);
  });
});
