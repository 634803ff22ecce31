import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { InboundEvent } from "../../src/core/event.ts";
import { sseData } from "../../src/targets/openai/sse.ts";
import { OpenAiTarget, type OpenAiTargetOptions } from "../../src/targets/openai/target.ts";
import type { TargetError } from "../../src/targets/types.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { UNREACHABLE_AGENT_URL } from "../helpers/unreachable.ts";

const event = (text: string): InboundEvent => ({
  id: "t:1",
  channel: "webchat",
  account: "default",
  conversation: { id: "c", kind: "dm" },
  sender: { id: "u" },
  text,
  attachments: [],
  addressed: true,
  receivedAt: Date.now(),
});

const opts = (url: string, over: Partial<OpenAiTargetOptions> = {}): OpenAiTargetOptions => ({
  url,
  model: "test-model",
  stream: true,
  connectTimeoutMs: 2000,
  firstTokenTimeoutMs: 2000,
  totalTimeoutMs: 5000,
  retries: 2,
  ...over,
});

async function run(
  target: OpenAiTarget,
  text: string,
  history = [] as { role: "user" | "assistant"; content: string }[],
) {
  const deltas: string[] = [];
  const result = await target.run({
    event: event(text),
    sessionKey: "s",
    history,
    signal: new AbortController().signal,
    onDelta: (t) => deltas.push(t),
  });
  return { result, deltas };
}

describe("OpenAI-compatible target", () => {
  const agent = new FakeAgent({ chunkSize: 3 });
  before(() => agent.start());
  after(() => agent.stop());

  it("streams SSE deltas and returns the whole reply", async () => {
    agent.options = { chunkSize: 3 };
    const { result, deltas } = await run(new OpenAiTarget(opts(agent.url)), "hello there");
    assert.deepEqual(result, { kind: "reply", text: "echo: hello there" });
    assert.ok(deltas.length >= 5, "several deltas");
    assert.equal(deltas.at(-1), "echo: hello there");
    assert.ok(
      deltas.every((d, i) => i === 0 || d.startsWith(deltas[i - 1]!)),
      "deltas grow monotonically",
    );
  });

  it("sends the system prompt, the history and the new message, with model and API key", async () => {
    agent.options = { apiKey: "sk-test" };
    const target = new OpenAiTarget(opts(agent.url, { apiKey: "sk-test", systemPrompt: "Be brief." }));
    await run(target, "third", [
      { role: "user", content: "first" },
      { role: "assistant", content: "second" },
    ]);
    const req = agent.requests.at(-1)!;
    assert.equal(req.body.model, "test-model");
    assert.equal(req.body.stream, true);
    assert.deepEqual(
      req.body.messages.map((m) => `${m.role}:${m.content}`),
      ["system:Be brief.", "user:first", "assistant:second", "user:third"],
    );
  });

  it("falls back to a plain JSON answer when the server does not stream", async () => {
    agent.options = { noStream: true };
    const { result, deltas } = await run(new OpenAiTarget(opts(agent.url)), "hi");
    assert.deepEqual(result, { kind: "reply", text: "echo: hi" });
    assert.deepEqual(deltas, ["echo: hi"]);
  });

  it("a wrong API key gives a message that says which setting to fix", async () => {
    agent.options = { apiKey: "right" };
    await assert.rejects(
      run(new OpenAiTarget(opts(agent.url, { apiKey: "wrong" })), "x"),
      (err: TargetError) => {
        assert.match(err.message, /HTTP 401.*Incorrect API key.*OCG_API_KEY/);
        return true;
      },
    );
  });

  it("a 404 (model or path) says what to check, with the server's own message", async () => {
    agent.options = {
      failNext: { count: 1, status: 404, body: { error: 'model "nope" not found, try pulling it first' } },
    };
    await assert.rejects(
      run(new OpenAiTarget(opts(agent.url, { model: "nope" })), "x"),
      (err: TargetError) => {
        assert.match(err.message, /404.*model "nope" not found.*ollama pull nope/);
        return true;
      },
    );
  });

  it("retries 5xx before the first token, then succeeds", async () => {
    agent.options = { failNext: { count: 2, status: 503 } };
    const before = agent.requests.length;
    const { result } = await run(new OpenAiTarget(opts(agent.url, { retries: 2 })), "again");
    assert.deepEqual(result, { kind: "reply", text: "echo: again" });
    assert.equal(agent.requests.length - before, 3);
  });

  it("gives up after the configured retries with the server's status", async () => {
    agent.options = { failNext: { count: 5, status: 500 } };
    await assert.rejects(
      run(new OpenAiTarget(opts(agent.url, { retries: 1 })), "x"),
      /HTTP 500.*Check the agent server's logs/,
    );
    agent.options = {};
  });

  it("an unreachable agent says so plainly and how to fix it", async () => {
    const url = UNREACHABLE_AGENT_URL;
    await assert.rejects(run(new OpenAiTarget(opts(url, { retries: 0 })), "x"), (err: TargetError) => {
      assert.match(err.message, /unreachable \(connection refused\).*OCG_AGENT_URL.*Your message was kept/);
      assert.equal(err.retryable, true);
      return true;
    });
  });

  it("error messages (shown to chat users) never carry the agent URL's password or query", async () => {
    agent.options = {};
    const withQuery = `${agent.url.replace(/\/$/, "")}?api-key=s3cret-q`;
    await assert.rejects(run(new OpenAiTarget(opts(withQuery, { retries: 0 })), "x"), (err: TargetError) => {
      assert.match(err.message, /answered 404/);
      assert.doesNotMatch(err.message, /s3cret/);
      return true;
    });
    const withPassword = agent.url.replace("http://", "http://user:s3cret-p@");
    await assert.rejects(
      run(new OpenAiTarget(opts(withPassword, { retries: 0 })), "x"),
      (err: TargetError) => {
        assert.match(err.message, /The agent at http:\/\/127\.0\.0\.1:\d+\//);
        assert.doesNotMatch(err.message, /s3cret/);
        return true;
      },
    );
  });

  it("a server that does not answer within the connect timeout is reported", async () => {
    agent.options = { headerDelayMs: 1000 };
    const target = new OpenAiTarget(opts(agent.url, { connectTimeoutMs: 100, retries: 0 }));
    await assert.rejects(run(target, "x"), /did not respond within 0.1 s/);
    agent.options = {};
  });

  it("a model that sends no token within the first-token timeout is reported with the setting to raise", async () => {
    agent.options = { firstChunkDelayMs: 1000 };
    const target = new OpenAiTarget(opts(agent.url, { firstTokenTimeoutMs: 150, retries: 0 }));
    await assert.rejects(run(target, "x"), /sent no reply within 0.2 s.*firstTokenTimeoutMs/);
    agent.options = {};
  });

  it("cancellation aborts the request", async () => {
    agent.options = { chunkDelayMs: 200, chunkSize: 1 };
    const controller = new AbortController();
    const p = new OpenAiTarget(opts(agent.url)).run({
      event: event("long reply please"),
      sessionKey: "s",
      history: [],
      signal: controller.signal,
      onDelta: () => controller.abort(new Error("session reset")),
    });
    await assert.rejects(p, /session reset/);
    agent.options = {};
  });
});

describe("SSE parsing", () => {
  async function collect(chunks: string[]) {
    const out: string[] = [];
    async function* src() {
      for (const c of chunks) yield new TextEncoder().encode(c);
    }
    for await (const d of sseData(src())) out.push(d);
    return out;
  }

  it("handles events split across chunks, CRLF, comments and multi-line data", async () => {
    assert.deepEqual(
      await collect(["data: a", "bc\r\n\r\n: comment\n\ndata: x\ndata: y\n\n", "data: [DONE]\n\n"]),
      ["abc", "x\ny", "[DONE]"],
    );
  });

  it("yields a final event without a trailing blank line", async () => {
    assert.deepEqual(await collect(["data: last"]), ["last"]);
  });
});
