// The client of an OpenAI-compatible /v1/embeddings endpoint (memory.embeddings.url): one request per batch of
// texts. Failures are errors the caller logs; memory still works without vectors (the newest facts are sent).
import { redactUrl } from "../security/url-guard.ts";

export interface EmbeddingsOptions {
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
}

export class EmbeddingsClient {
  readonly #o: EmbeddingsOptions;

  constructor(o: EmbeddingsOptions) {
    this.#o = o;
  }

  async embed(texts: string[]): Promise<number[][]> {
    const o = this.#o;
    const res = await fetch(o.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
      },
      body: JSON.stringify({ model: o.model, input: texts }),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    if (!res.ok) {
      const body = (await res.text().catch(() => "")).slice(0, 200);
      throw new Error(
        `the embeddings endpoint ${redactUrl(o.url)} answered ${res.status}: ${body} (check memory.embeddings.url, model and apiKey)`,
      );
    }
    const json = (await res.json()) as { data?: { index?: number; embedding?: unknown }[] };
    const data = json.data ?? [];
    const out: number[][] = [];
    for (const [i, d] of data.entries()) {
      if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === "number"))
        throw new Error(`the embeddings endpoint ${redactUrl(o.url)} answered without data[${i}].embedding`);
      out[d.index ?? i] = d.embedding as number[];
    }
    if (out.length !== texts.length)
      throw new Error(
        `the embeddings endpoint ${redactUrl(o.url)} returned ${out.length} vectors for ${texts.length} texts`,
      );
    return out;
  }
}
