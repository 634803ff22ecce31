// A fake async agent (channel-gateway seed, async mode): takes a plain chat completion request carrying
// X-OCG-Callback, answers 202 at once, and later POSTs {reply, isError?} to the callback URL, signed with
// X-OCG-Signature: sha256=<hex HMAC-SHA256(body, secret)> when it knows the secret.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface AsyncAgentRequest {
  callbackUrl: string;
  headers: IncomingMessage["headers"];
  body: { model?: string; messages: { role: string; content: string }[]; stream?: boolean };
}

export interface AsyncAgentOptions {
  /** Call back automatically after this many ms (undefined: the test calls answer()). */
  autoReplyMs?: number;
  /** Shared secret for X-OCG-Signature. */
  secret?: string;
  reply?: (req: AsyncAgentRequest) => string;
}

export class FakeAsyncAgent {
  readonly requests: AsyncAgentRequest[] = [];
  readonly callbackResults: number[] = [];
  options: AsyncAgentOptions;
  url = "";
  #server: Server;
  #waiters: (() => void)[] = [];

  constructor(options: AsyncAgentOptions = {}) {
    this.options = options;
    this.#server = createServer(async (req, res) => {
      const raw = await readBody(req);
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        res.writeHead(404).end();
        return;
      }
      const callbackUrl = req.headers["x-ocg-callback"];
      if (typeof callbackUrl !== "string") {
        res.writeHead(400, { "content-type": "text/plain" }).end("missing X-OCG-Callback");
        return;
      }
      const record: AsyncAgentRequest = {
        callbackUrl,
        headers: req.headers,
        body: JSON.parse(raw.toString("utf8")),
      };
      this.requests.push(record);
      res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ status: "accepted" }));
      for (const w of this.#waiters.splice(0)) w();
      if (this.options.autoReplyMs !== undefined) {
        setTimeout(() => {
          const text = this.options.reply?.(record) ?? `async: ${record.body.messages.at(-1)?.content}`;
          void this.answer(this.requests.indexOf(record), { reply: text }).then((s) =>
            this.callbackResults.push(s),
          );
        }, this.options.autoReplyMs);
      }
    });
  }

  async start(): Promise<this> {
    this.url = `${await listenLocal(this.#server)}/v1/chat/completions`;
    return this;
  }

  async stop() {
    await closeServer(this.#server);
  }

  /** Resolves once `n` requests have arrived. */
  async waitForRequests(n: number, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < n) {
      if (Date.now() > deadline)
        throw new Error(`fake async agent got ${this.requests.length} of ${n} requests`);
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** POSTs a callback for request `index`; returns the gateway's status code. */
  async answer(
    index: number,
    payload: unknown,
    opts: { secret?: string | null; signature?: string; url?: string } = {},
  ): Promise<number> {
    const body = JSON.stringify(payload);
    const secret = opts.secret === null ? undefined : (opts.secret ?? this.options.secret);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (opts.signature !== undefined) headers["x-ocg-signature"] = opts.signature;
    else if (secret)
      headers["x-ocg-signature"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
    const res = await fetch(opts.url ?? this.requests[index]!.callbackUrl, { method: "POST", headers, body });
    await res.arrayBuffer();
    return res.status;
  }
}
