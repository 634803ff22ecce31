// The web chat API's finer points that docs/webchat-api.md promises: paging, generations, thread titles, and
// that a request a local reverse proxy relays is not treated as local.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

describe("web chat API", () => {
  const agent = new FakeAgent({ chunkSize: 3 });
  const token = "api-test-token-0123456789";
  let gw: TestGateway;
  let chat: WebchatClient;

  before(async () => {
    await agent.start();
    gw = await startTestGateway({ config: { agentUrl: agent.url, webchat: { token } } });
    chat = new WebchatClient(gw.url);
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(gw.url + path, { headers });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it("pages through a long thread with after, limit and hasMore", async () => {
    const thread = await chat.createThread();
    await gw.gateway.store.appendMessages(
      Array.from({ length: 7 }, (_, i) => ({
        sessionKey: `webchat:default:${thread}`,
        role: i % 2 ? ("assistant" as const) : ("user" as const),
        content: `message ${i}`,
      })),
    );
    const seen: string[] = [];
    let after = 0;
    for (;;) {
      const { status, body } = await get(`/api/threads/${thread}/messages?after=${after}&limit=3`);
      assert.equal(status, 200);
      const messages = body.messages as { id: number; content: string }[];
      assert.ok(messages.length <= 3);
      seen.push(...messages.map((m) => m.content));
      if (!body.hasMore) break;
      after = messages.at(-1)!.id;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 7 }, (_, i) => `message ${i}`),
    );
    // Nonsense paging values fall back to the defaults instead of failing.
    const { body } = await get(`/api/threads/${thread}/messages?after=abc&limit=-5`);
    assert.equal((body.messages as unknown[]).length, 7);
    assert.equal(body.hasMore, false);
  });

  it("marks the generation of each message, so /new is visible in history", async () => {
    const thread = await chat.createThread();
    const a = await chat.send(thread, "before the reset");
    await chat.reply(thread, a.eventId);
    const b = await chat.send(thread, "/new");
    await chat.reply(thread, b.eventId);
    const c = await chat.send(thread, "after the reset");
    await chat.reply(thread, c.eventId);
    const { body } = await get(`/api/threads/${thread}/messages`);
    const gens = (body.messages as { content: string; generation: number }[]).map((m) => [
      m.content.slice(0, 16),
      m.generation,
    ]);
    const first = gens[0]![1] as number;
    assert.deepEqual(
      gens.filter(([c]) => c === "before the reset" || c === "after the reset"),
      [
        ["before the reset", first],
        ["after the reset", first + 1],
      ],
    );
  });

  it("titles a thread by its first message, never by a command", async () => {
    const thread = await chat.createThread();
    const cmd = await chat.send(thread, "/whoami");
    await chat.reply(thread, cmd.eventId);
    const msg = await chat.send(thread, "  Plan a trip to Lisbon in May  ");
    await chat.reply(thread, msg.eventId);
    const { body } = await get("/api/threads");
    const t = (body.threads as { id: string; title: string }[]).find((x) => x.id === thread)!;
    assert.equal(t.title, "Plan a trip to Lisbon in May");
  });

  it("the event stream sends accepted, growing deltas, then the reply naming the message it answers", async () => {
    const thread = await chat.createThread();
    const controller = new AbortController();
    const res = await fetch(`${gw.url}/api/threads/${thread}/events`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    const next = async () => {
      for (;;) {
        const i = buf.indexOf("\n\n");
        if (i !== -1) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          return frame;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buf += value;
      }
    };
    assert.equal(await next(), ": connected", "subscribed before anything is sent");
    const sent = await chat.send(thread, "stream this please");
    const events: { type: string; [k: string]: unknown }[] = [];
    for (;;) {
      const frame = await next();
      if (frame.startsWith(":")) continue;
      const [eventLine, dataLine] = frame.split("\n");
      const ev = JSON.parse(dataLine!.slice("data: ".length));
      assert.equal(eventLine, `event: ${ev.type}`);
      events.push(ev);
      if (ev.type === "reply") break;
    }
    controller.abort();
    assert.deepEqual(events[0], { type: "accepted", eventId: sent.eventId, text: "stream this please" });
    const deltas = events.filter((e) => e.type === "delta");
    assert.ok(deltas.length >= 2, "the reply is streamed in pieces");
    for (const d of deltas) assert.equal(d.eventId, sent.eventId);
    const reply = events.at(-1)!;
    assert.equal(reply.text, "echo: stream this please");
    assert.equal(reply.kind, "reply");
    assert.equal(reply.eventId, sent.eventId);
    assert.equal(reply.id, `reply:${sent.eventId}:0`);
  });

  it("a request relayed by a reverse proxy on this host needs the token", async () => {
    const relayed: Record<string, string>[] = [
      { "x-forwarded-for": "203.0.113.7" },
      { forwarded: "for=203.0.113.7;proto=https" },
      { "x-real-ip": "203.0.113.7" },
      // Cloudflare (cloudflared on this host), Akamai and other CDNs name the client these ways.
      { "cf-connecting-ip": "203.0.113.7" },
      { "true-client-ip": "203.0.113.7" },
      { "x-client-ip": "203.0.113.7" },
    ];
    for (const header of relayed) {
      const refused = await get("/api/threads", header);
      assert.equal(refused.status, 401, JSON.stringify(header));
      assert.match(String(refused.body.error), /Authorization: Bearer/);
      const allowed = await get("/api/threads", { ...header, authorization: `Bearer ${token}` });
      assert.equal(allowed.status, 200);
    }
    assert.equal((await get("/api/threads")).status, 200, "plain loopback needs no token");
  });
});
