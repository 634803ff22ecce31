// A fake OpenAI-compatible chat completions server: real HTTP, real SSE framing, the error shapes real servers
// use. Replies are derived from the request so tests can check that context and the message arrived.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { listenLocal, readBody } from "./shared.ts";

/** OpenAI content parts, as the chat completions API takes them. */
export type FakeContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string; detail?: string } }
  | { type: "input_audio"; input_audio: { data: string; format: string } };

export interface FakeAgentRequest {
  headers: IncomingMessage["headers"];
  /**
   * `content` is typed as text, which it is for every text turn; a turn with pictures or file text arrives as
   * an array of FakeContentPart: read those through textOf() and imagesOf().
   */
  body: { model?: string; messages: { role: string; content: string }[]; stream?: boolean };
}

/** A message's text: the string, or its text parts joined. */
export function textOf(content: string | FakeContentPart[]): string {
  if (typeof content === "string") return content;
  return partsOf(content)
    .filter((p): p is Extract<FakeContentPart, { type: "text" }> => p.type === "text")
    .map((p) => p.text)
    .join("\n");
}

/** The pictures of the last user message, decoded from their data URLs (the exact bytes the gateway sent). */
export function imagesOf(req: FakeAgentRequest): { mime: string; bytes: Buffer }[] {
  const last = [...req.body.messages].reverse().find((m) => m.role === "user");
  if (!last || typeof last.content === "string") return [];
  const out: { mime: string; bytes: Buffer }[] = [];
  for (const p of partsOf(last.content)) {
    if (p.type !== "image_url") continue;
    const m = /^data:([^;]+);base64,(.*)$/s.exec(p.image_url.url);
    if (m) out.push({ mime: m[1]!, bytes: Buffer.from(m[2]!, "base64") });
  }
  return out;
}

function partsOf(content: unknown): FakeContentPart[] {
  return Array.isArray(content) ? (content as FakeContentPart[]) : [];
}

/** Why OpenAI's API would refuse this content (a 400), or undefined when it is well-formed. */
function contentProblem(body: FakeAgentRequest["body"], textOnly: boolean): string | undefined {
  for (const [i, m] of body.messages.entries()) {
    if (typeof m.content === "string") continue;
    if (!Array.isArray(m.content)) return `messages.[${i}].content must be a string or an array of parts`;
    for (const [j, p] of partsOf(m.content).entries()) {
      if (p.type === "text" && typeof p.text === "string") continue;
      if (p.type === "image_url" && typeof p.image_url?.url === "string") {
        if (textOnly) return "Invalid content type. image_url is only supported by certain models.";
        if (!/^(data:image\/[a-z0-9.+-]+;base64,|https?:\/\/)/.test(p.image_url.url))
          return `messages.[${i}].content.[${j}].image_url.url is not a URL or a data URL`;
        continue;
      }
      if (p.type === "input_audio" && ["wav", "mp3"].includes(p.input_audio?.format)) continue;
      return `Invalid value for messages.[${i}].content.[${j}]: ${JSON.stringify(p).slice(0, 80)}`;
    }
  }
  return undefined;
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
  /** A further delay before the headers, chosen by the last user message's text (a slow question). */
  delayFor?: (userText: string) => number;
  /** Delay after the stream's headers before its first chunk (a model still loading). */
  firstChunkDelayMs?: number;
  /** A text-only model: image parts are refused with OpenAI's 400. */
  textOnly?: boolean;
  /** Requests wait for this before they are answered (a busy model server). */
  hold?: Promise<void>;
  /** The models it serves: another model name is answered with OpenAI's 404 model_not_found. Default: any. */
  models?: string[];
  /** A model without tool support: a request with `tools` is refused with Ollama's 400. */
  noTools?: boolean;
  /** Its clock is this far off: the Date header of every answer (a server with a wrong clock). */
  clockOffsetMs?: number;
}

export class FakeAgent {
  readonly requests: FakeAgentRequest[] = [];
  options: FakeAgentOptions;
  /** Requests being answered now, and the most there ever were at once. */
  inflight = 0;
  maxInflight = 0;
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
    if (this.options.clockOffsetMs) {
      res.setHeader("date", new Date(Date.now() + this.options.clockOffsetMs).toUTCString());
    }
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
    if (o.models && !o.models.includes(String(body.model))) {
      res.writeHead(404, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          error: {
            message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
            type: "invalid_request_error",
            param: null,
            code: "model_not_found",
          },
        }),
      );
    }
    if (o.noTools && Array.isArray((body as { tools?: unknown }).tools)) {
      res.writeHead(400, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          error: {
            message: `registry.ollama.ai/library/${body.model}:latest does not support tools`,
            type: "api_error",
            param: null,
            code: null,
          },
        }),
      );
    }
    const record = { headers: req.headers, body };
    this.requests.push(record);
    this.inflight++;
    this.maxInflight = Math.max(this.maxInflight, this.inflight);
    res.once("close", () => this.inflight--);
    if (o.hold) await o.hold;
    const problem = contentProblem(body, o.textOnly ?? false);
    if (problem) {
      res.writeHead(400, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          error: { message: problem, type: "invalid_request_error", param: null, code: null },
        }),
      );
    }
    if (o.failNext && o.failNext.count > 0) {
      o.failNext.count--;
      res.writeHead(o.failNext.status, { "content-type": "application/json" });
      return res.end(
        JSON.stringify(o.failNext.body ?? { error: { message: `fake failure ${o.failNext.status}` } }),
      );
    }
    if (o.headerDelayMs) await new Promise((r) => setTimeout(r, o.headerDelayMs));
    const last = [...body.messages].reverse().find((m) => m.role === "user");
    const slow = o.delayFor?.(last ? textOf(last.content) : "") ?? 0;
    if (slow > 0) await new Promise((r) => setTimeout(r, slow));
    const text = o.reply ? o.reply(record) : `echo: ${last ? textOf(last.content) : ""}`;
    if (!body.stream || o.noStream) {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          id: "chatcmpl-fake",
          object: "chat.completion",
          model: body.model ?? "fake-model",
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
        model: body.model ?? "fake-model",
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
