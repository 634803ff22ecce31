// A fake OpenAI-compatible chat completions server: real HTTP, real SSE framing, the error shapes real servers
// use. Replies are derived from the request so tests can check that context and the message arrived.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenLocal, readBody } from "./shared.ts";

export interface FakeAgentRequest {
  headers: IncomingMessage["headers"];
  body: { model?: string; messages: { role: string; content: string }[]; stream?: boolean };
}

export interface FakeAgentOptions {
  /** Reply text for a request; default: `echo: <last user message>`. */
  reply?: (req: FakeAgentRequest) => string;
  /** Delay between streamed chunks. */
  chunkDelayMs?: number;
  /** Characters per streamed chunk. */
  chunkSize?: number;
  /** Answer with one JSON body even when stream:true was asked. */
  noStream?: boolean;
  /** Require this bearer token. */
  apiKey?: string;
  /** Fail the next N requests with this status. */
  failNext?: { count: number; status: number; body?: unknown };
  /** Delay before sending headers. */
  headerDelayMs?: number;
  /** Delay after the stream's headers before its first chunk (a model still loading). */
  firstChunkDelayMs?: number;
}

export class FakeAgent {
  readonly requests: FakeAgentRequest[] = [];
  options: FakeAgentOptions;
  #server: Server;
  #sockets = new Set<import("node:net").Socket>();
  url = "";

  constructor(options: FakeAgentOptions = {}) {
    this.options = options;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
  }

  async start(port = 0): Promise<this> {
    this.url = `${await listenLocal(this.#server, port)}/v1/chat/completions`;
    return this;
  }

  async stop() {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: { message: "Not Found", type: "invalid_request_error" } }));
    }
    const raw = await readBody(req);
    let body: FakeAgentRequest["body"];
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      res.writeHead(400, { "content-type": "application/json" });
      return res.end(JSON.stringify({ error: { message: "invalid JSON body" } }));
    }
    const o = this.options;
    if (o.apiKey && req.headers.authorization !== `Bearer ${o.apiKey}`) {
      res.writeHead(401, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error" } }),
      );
    }
    const record = { headers: req.headers, body };
    this.requests.push(record);
    if (o.failNext && o.failNext.count > 0) {
      o.failNext.count--;
      res.writeHead(o.failNext.status, { "content-type": "application/json" });
      return res.end(
        JSON.stringify(o.failNext.body ?? { error: { message: `fake failure ${o.failNext.status}` } }),
      );
    }
    if (o.headerDelayMs) await new Promise((r) => setTimeout(r, o.headerDelayMs));
    const last = [...body.messages].reverse().find((m) => m.role === "user");
    const text = o.reply ? o.reply(record) : `echo: ${last?.content ?? ""}`;
    if (!body.stream || o.noStream) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          id: "chatcmpl-fake",
          object: "chat.completion",
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        }),
      );
    }
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.flushHeaders();
    if (o.firstChunkDelayMs) await new Promise((r) => setTimeout(r, o.firstChunkDelayMs));
    const size = o.chunkSize ?? 4;
    for (let i = 0; i < text.length; i += size) {
      const chunk = {
        id: "chatcmpl-fake",
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta: { content: text.slice(i, i + size) } }],
      };
      if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) await new Promise((r) => res.once("drain", r));
      if (o.chunkDelayMs) await new Promise((r) => setTimeout(r, o.chunkDelayMs));
      if (res.destroyed) return;
    }
    res.write(`data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`);
    res.end("data: [DONE]\n\n");
  }
}

if (import.meta.main) {
  const agent = await new FakeAgent({ chunkDelayMs: 30 }).start(Number(process.env.PORT ?? 11434));
  console.log(`fake agent at ${agent.url}`);
}
