// The web chat API's finer points that docs/webchat-api.md promises: paging, generations, thread titles, and
// that a request a local reverse proxy relays is not treated as local.
import assert from "node:assert/strict";
import { createServer, get, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { WebchatAdapter } from "../../src/channels/webchat/index.ts";
import { LiveHub } from "../../src/channels/webchat/live-hub.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway, waitFor } from "../helpers/gateway.ts";
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

  it("the event stream sends accepted, deltas as increments, then the reply naming the message it answers", async () => {
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
    const deltas = events.filter((e) => e.type === "delta") as unknown as {
      eventId: string;
      offset: number;
      text: string;
    }[];
    assert.ok(deltas.length >= 2, "the reply is streamed in pieces");
    let shown = "";
    for (const d of deltas) {
      assert.equal(d.eventId, sent.eventId);
      assert.equal(d.offset, shown.length, "each delta continues where the last one ended");
      assert.ok(d.text.length > 0);
      shown += d.text;
    }
    assert.equal(shown, "echo: stream this please");
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

  it("guessing the token from one address is cut off: 10 wrong tokens, then 429 even for the right one", async () => {
    // Relayed by a local proxy, so the gateway sees a remote caller (all from the proxy's address).
    const remote = { "x-forwarded-for": "198.51.100.23" };
    assert.equal((await get("/api/threads", remote)).status, 401, "no token: not a guess");
    for (let i = 0; i < 10; i++) {
      const r = await get("/api/threads", { ...remote, authorization: `Bearer wrong-guess-${i}-0123456789` });
      assert.equal(r.status, 401);
    }
    const blocked = await fetch(`${gw.url}/api/threads`, {
      headers: { ...remote, authorization: `Bearer ${token}` },
    });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get("retry-after")) >= 1);
    assert.equal((await get("/api/threads")).status, 200, "the operator on loopback is not locked out");
  });
});

describe("web chat streaming of a long answer", () => {
  // 1 MB in 1 KB deltas: before, every delta carried the whole text so far (about 500 MB per subscriber) and was
  // written whatever the subscriber could take.
  const line = "A long answer streams in small pieces; the page must see every one of them in order.\n";
  const BIG = line.repeat(Math.ceil(1_048_576 / line.length)).slice(0, 1_048_576);
  const agent = new FakeAgent({ chunkSize: 1024, chunkDelayMs: 1, reply: () => BIG });
  let gw: TestGateway;
  before(async () => {
    await agent.start();
    // The answer cap (limits.answerChars) is raised: this is about streaming a long answer, not cutting it.
    gw = await startTestGateway({ config: { agentUrl: agent.url, limits: { answerChars: 1_000_000 } } });
  });
  after(async () => {
    await gw.stop();
    await agent.stop();
  });

  it("a subscriber that does not read gets increments, bounded buffers, and /healthz still answers", async () => {
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const hub = (gw.gateway.adapter("webchat", "default") as WebchatAdapter).hub;

    // The slow subscriber: it reads the stream's head, then nothing until the answer is complete.
    const slow = await stalledSubscriber(`${gw.url}/api/threads/${thread}/events`);

    // A reading subscriber tells when the stream has ended.
    const reader = await chat.subscribe(thread, (ev) => ev.type === "reply", 120_000);
    let peakBuffered = 0;
    let streamEnded = false;
    const sampler = setInterval(() => {
      peakBuffered = Math.max(peakBuffered, hub.bufferedBytes(thread));
    }, 5);
    try {
      const sent = await chat.send(thread, "tell me everything");
      await waitFor(() => agent.requests.length > 0, 30_000, "the agent to be asked");
      const health = fetch(`${gw.url}/healthz`).then((r) => ({ status: r.status, streamEnded }));
      const events = reader.done.then((e) => {
        streamEnded = true;
        return e;
      });
      const h = await health;
      assert.equal(h.status, 200);
      assert.equal(h.streamEnded, false, "/healthz answered while the answer was still streaming");
      const seen = await events;
      // The reply itself (split into messages of the web chat's maximum length) starts the answer.
      const first = String(seen.at(-1)?.text);
      assert.ok(first.length >= 90_000 && BIG.startsWith(first), "the reply carries the text");
      assert.equal(seen.at(-1)?.eventId, sent.eventId);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(peakBuffered <= 2 * BIG.length, `buffered for the slow subscriber: ${peakBuffered} bytes`);

    // Now the slow subscriber reads what it was sent: increments that rebuild (a prefix of) the answer, then
    // the reply with all of it; never more preview text than the answer itself.
    slow.readOn();
    await waitFor(() => slow.received().includes("event: reply\n"), 60_000, "the slow subscriber's reply");
    await waitFor(
      () => /event: reply\ndata: [^\n]*\n\n/.test(slow.received()),
      60_000,
      "the whole reply frame",
    );
    slow.destroy();
    const { shown, previewChars } = applyDeltas(slow.received());
    assert.ok(BIG.startsWith(shown), "the previews are the answer's beginning");
    assert.ok(previewChars <= BIG.length, `preview text sent: ${previewChars} characters`);
  });
});

/** What a page shows from the delta frames of an SSE text, and how much preview text they carried. */
/** An SSE subscriber that reads up to the stream's head, then nothing until told to read on (a slow client). */
async function stalledSubscriber(url: string) {
  let received = "";
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    get(url, (r) => {
      r.setEncoding("utf8");
      const onData = (chunk: string) => {
        received += chunk;
        if (received.includes(": connected\n\n")) {
          r.pause();
          r.off("data", onData);
          resolve(r);
        }
      };
      r.on("data", onData);
    }).on("error", reject);
  });
  return {
    received: () => received,
    readOn() {
      res.on("data", (chunk: string) => {
        received += chunk;
      });
      res.resume();
    },
    destroy: () => res.destroy(),
  };
}

function applyDeltas(sse: string): { shown: string; previewChars: number } {
  let shown = "";
  let previewChars = 0;
  for (const frame of sse.split("\n\n")) {
    const data = /^data: (.*)$/m.exec(frame)?.[1];
    if (!data || !frame.startsWith("event: delta")) continue;
    const d = JSON.parse(data) as { offset: number; text: string };
    assert.ok(d.offset <= shown.length, "no gap");
    shown = shown.slice(0, d.offset) + d.text;
    previewChars += d.text.length;
  }
  return { shown, previewChars };
}

it("a subscriber whose socket is full gets no more previews until it drains, then the missing part at once", async () => {
  const hub = new LiveHub();
  const server = createServer((_req, res) => hub.subscribe("t", res));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  try {
    const slow = await stalledSubscriber(`http://127.0.0.1:${port}/`);
    // 32 MB of previews (64 × 512 KB increments) to a subscriber that reads nothing: far beyond what the
    // kernel's socket buffers take, so the socket fills.
    const piece = "0123456789abcdef".repeat(32 * 1024);
    let text = "";
    let peak = 0;
    for (let i = 0; i < 64; i++) {
      text += piece;
      hub.preview("t", "e1", text);
      peak = Math.max(peak, hub.bufferedBytes("t"));
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(peak < 4 * piece.length, `at most a few previews wait in our buffers: ${peak} bytes`);
    hub.publish("t", { type: "reply", eventId: "e1", text: "the end" });
    slow.readOn();
    await waitFor(() => /event: reply\ndata: [^\n]*\n\n/.test(slow.received()), 60_000, "the reply");
    slow.destroy();
    const { shown, previewChars } = applyDeltas(slow.received());
    assert.ok(text.startsWith(shown) && shown.length > 0, "the previews it got are the text's beginning");
    assert.ok(previewChars <= text.length, "nothing was sent twice");
    assert.ok(previewChars < text.length, "previews were held back while the socket was full");
  } finally {
    hub.close();
    await new Promise((r) => server.close(r));
  }
});
