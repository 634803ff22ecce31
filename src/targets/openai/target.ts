// OpenAI-compatible chat completions: streamed over SSE, with a fallback for servers that answer with one
// JSON body. Retries only before the first token, so a user never sees a reply start twice.
import { setTimeout as sleep } from "node:timers/promises";
import { redactUrl } from "../../security/url-guard.ts";
import type { ChatTurn, Target, TargetRequest, TargetResult } from "../types.ts";
import { TargetError } from "../types.ts";
import { connectionError, httpError } from "./errors.ts";
import { answerText, refusesContent, requestHasImages, withoutImages } from "./parts.ts";
import { sseData } from "./sse.ts";

export interface OpenAiTargetOptions {
  url: string;
  model?: string;
  apiKey?: string;
  systemPrompt?: string;
  stream: boolean;
  temperature?: number;
  maxTokens?: number;
  connectTimeoutMs: number;
  firstTokenTimeoutMs: number;
  totalTimeoutMs: number;
  retries: number;
  /** Extra headers (the async mode adds X-OCG-Callback). */
  headers?: Record<string, string>;
}

type Phase = "connect" | "first-token" | "total";

export class OpenAiTarget implements Target {
  readonly name = "openai";
  readonly options: OpenAiTargetOptions;

  constructor(options: OpenAiTargetOptions) {
    this.options = options;
  }

  buildMessages(req: Pick<TargetRequest, "history" | "event" | "content">): ChatTurn[] {
    const messages: ChatTurn[] = [];
    if (this.options.systemPrompt) messages.push({ role: "system", content: this.options.systemPrompt });
    messages.push(...req.history, { role: "user", content: req.content ?? req.event.text });
    return messages;
  }

  async run(req: TargetRequest): Promise<TargetResult> {
    try {
      return await this.#withRetries(req);
    } catch (err) {
      if (!(err instanceof TargetError) || !refusesContent(err.status) || !requestHasImages(req)) throw err;
      const result = await this.#withRetries(withoutImages(req));
      return result.kind === "reply" ? { ...result, imagesRefused: true } : result;
    }
  }

  async #withRetries(req: TargetRequest): Promise<TargetResult> {
    let attempt = 0;
    for (;;) {
      const started = { value: false };
      try {
        return await this.#once(req, started);
      } catch (err) {
        if (req.signal.aborted) throw err;
        const retryable = err instanceof TargetError && err.retryable && !started.value;
        if (!retryable || attempt >= this.options.retries) throw err;
        attempt++;
        await sleep(Math.min(4000, 500 * 2 ** (attempt - 1)), undefined, { signal: req.signal });
      }
    }
  }

  async #once(req: TargetRequest, started: { value: boolean }): Promise<TargetResult> {
    const o = this.options;
    const controller = new AbortController();
    let phase: Phase = "connect";
    const onAbort = () => controller.abort(req.signal.reason);
    req.signal.addEventListener("abort", onAbort, { once: true });
    const timers = new Set<NodeJS.Timeout>();
    const deadline = (ms: number, p: Phase) => {
      const t = setTimeout(() => {
        phase = p;
        controller.abort(new Error(`timeout:${p}`));
      }, ms);
      timers.add(t);
      return t;
    };
    deadline(o.totalTimeoutMs, "total");
    const connectTimer = deadline(o.connectTimeoutMs, "connect");
    try {
      const body: Record<string, unknown> = {
        model: o.model,
        messages: this.buildMessages(req),
        stream: o.stream,
      };
      if (o.temperature !== undefined) body.temperature = o.temperature;
      if (o.maxTokens !== undefined) body.max_tokens = o.maxTokens;
      let res: Response;
      try {
        res = await fetch(o.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: o.stream ? "text/event-stream, application/json" : "application/json",
            ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
            ...o.headers,
          },
          body: JSON.stringify(body),
          signal: controller.signal,
        });
      } catch (err) {
        throw this.#mapAbort(req, phase, err) ?? connectionError(o.url, err);
      }
      clearTimeout(connectTimer);
      if (!res.ok) {
        const text = await res.text().catch(() => "");
        throw httpError(o.url, res.status, text, o.model);
      }
      const firstTokenTimer = deadline(o.firstTokenTimeoutMs, "first-token");
      const type = res.headers.get("content-type") ?? "";
      try {
        if (!type.includes("text/event-stream")) {
          const json = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
          const text = answerText(json.choices?.[0]?.message?.content);
          if (typeof text !== "string") {
            throw new TargetError(
              `The agent at ${redactUrl(o.url)} answered without choices[0].message.content.`,
            );
          }
          started.value = true;
          req.onDelta(text);
          return { kind: "reply", text };
        }
        let text = "";
        for await (const data of sseData(res.body as AsyncIterable<Uint8Array>)) {
          if (data.trim() === "[DONE]") break;
          let chunk: {
            choices?: { delta?: { content?: string | null }; message?: { content?: string } }[];
            error?: unknown;
          };
          try {
            chunk = JSON.parse(data);
          } catch {
            continue;
          }
          if (chunk.error) {
            const msg = typeof chunk.error === "string" ? chunk.error : JSON.stringify(chunk.error);
            throw new TargetError(
              `The agent at ${redactUrl(o.url)} reported an error mid-stream: ${msg.slice(0, 300)}`,
            );
          }
          const piece = chunk.choices?.[0]?.delta?.content ?? chunk.choices?.[0]?.message?.content;
          if (piece) {
            if (!started.value) {
              started.value = true;
              clearTimeout(firstTokenTimer);
            }
            text += piece;
            req.onDelta(text);
          }
        }
        return { kind: "reply", text };
      } catch (err) {
        throw this.#mapAbort(req, phase, err) ?? err;
      }
    } finally {
      for (const t of timers) clearTimeout(t);
      req.signal.removeEventListener("abort", onAbort);
    }
  }

  #mapAbort(req: TargetRequest, phase: Phase, err: unknown): Error | undefined {
    if (req.signal.aborted)
      return req.signal.reason instanceof Error ? req.signal.reason : new Error("cancelled");
    const isAbort =
      (err as Error)?.name === "AbortError" || String((err as Error)?.message).startsWith("timeout:");
    if (!isAbort && !String((err as { cause?: Error })?.cause?.message ?? "").startsWith("timeout:"))
      return undefined;
    const o = this.options;
    const secs = (ms: number) => (ms >= 10_000 ? Math.round(ms / 1000) : Math.round(ms / 100) / 10);
    if (phase === "connect")
      return new TargetError(
        `The agent at ${redactUrl(o.url)} did not respond within ${secs(o.connectTimeoutMs)} s. Is the server up and reachable?`,
        { retryable: true },
      );
    if (phase === "first-token")
      return new TargetError(
        `The agent at ${redactUrl(o.url)} sent no reply within ${secs(o.firstTokenTimeoutMs)} s (the model may still be loading). Try again, or raise agent.firstTokenTimeoutMs.`,
        { retryable: true },
      );
    return new TargetError(
      `The agent's reply took longer than ${secs(o.totalTimeoutMs)} s and was cut off. Raise agent.totalTimeoutMs if long answers are expected.`,
    );
  }
}
