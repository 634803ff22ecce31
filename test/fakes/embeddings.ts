// A fake OpenAI-compatible /v1/embeddings server: real HTTP, OpenAI's request and response shapes and error
// bodies. A vector is a bag of words hashed into 64 dimensions and normalized, so texts sharing words are close
// (cosine) and the same text always gives the same vector.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenLocal, readBody } from "./shared.ts";

const DIMS = 64;

export function fakeVector(text: string): number[] {
  const v = new Array<number>(DIMS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    if (word.length < 3) continue;
    const h = createHash("sha256").update(word).digest();
    v[h[0]! % DIMS]! += 1;
  }
  const norm = Math.sqrt(v.reduce((n, x) => n + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

export class FakeEmbeddings {
  readonly inputs: string[][] = [];
  url = "";
  readonly #apiKey: string | undefined;
  readonly #server = createServer((req, res) => void this.#handle(req, res));

  constructor(o: { apiKey?: string } = {}) {
    this.#apiKey = o.apiKey;
  }

  async start(): Promise<this> {
    this.url = `${await listenLocal(this.#server)}/v1/embeddings`;
    return this;
  }

  stop() {
    return closeServer(this.#server);
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const error = (status: number, message: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code: null } }));
    };
    if (req.method !== "POST" || req.url !== "/v1/embeddings") return error(404, "Not Found");
    if (this.#apiKey && req.headers.authorization !== `Bearer ${this.#apiKey}`)
      return error(401, "Incorrect API key provided");
    let body: { input?: unknown; model?: unknown };
    try {
      body = JSON.parse((await readBody(req)).toString("utf8"));
    } catch {
      return error(400, "We could not parse the JSON body of your request.");
    }
    const input = typeof body.input === "string" ? [body.input] : body.input;
    if (!Array.isArray(input) || !input.length || !input.every((s) => typeof s === "string"))
      return error(400, "'input' must be a string or a non-empty array of strings");
    if (typeof body.model !== "string") return error(400, "you must provide a model parameter");
    this.inputs.push(input);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        object: "list",
        data: input.map((text, index) => ({ object: "embedding", index, embedding: fakeVector(text) })),
        model: body.model,
        usage: { prompt_tokens: 0, total_tokens: 0 },
      }),
    );
  }
}
