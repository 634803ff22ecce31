// The async ("fire and forget") agent mode of the channel-gateway seed: the message goes to the agent as a plain
// OpenAI chat completion request with stream:false and an X-OCG-Callback header; the agent answers at once
// (202) and later POSTs the reply to the callback URL. An agent that answers synchronously with a completion
// anyway is handled too (its token is discarded and the reply used directly).
import { addressOf } from "../../core/event.ts";
import type { Target, TargetRequest, TargetResult } from "../types.ts";
import type { CallbackTokens } from "./async-callbacks.ts";
import { connectionError, httpError } from "./errors.ts";
import type { OpenAiTarget } from "./target.ts";

export class AsyncOpenAiTarget implements Target {
  readonly name = "openai-async";
  readonly #base: OpenAiTarget;
  readonly #tokens: CallbackTokens;
  readonly #callbackBase: () => string;

  constructor(base: OpenAiTarget, tokens: CallbackTokens, callbackBase: () => string) {
    this.#base = base;
    this.#tokens = tokens;
    this.#callbackBase = callbackBase;
  }

  async run(req: TargetRequest): Promise<TargetResult> {
    const o = this.#base.options;
    // Persist first: a fast agent may call back before this request returns.
    const token = await this.#tokens.create(addressOf(req.event), req.sessionKey, req.event.id);
    const callbackUrl = `${this.#callbackBase()}/ocg/callback/${token}`;
    const signal = AbortSignal.any([req.signal, AbortSignal.timeout(o.firstTokenTimeoutMs)]);
    let res: Response;
    try {
      res = await fetch(o.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}),
          ...o.headers,
          "x-ocg-callback": callbackUrl,
        },
        body: JSON.stringify({ model: o.model, messages: this.#base.buildMessages(req), stream: false }),
        signal,
      });
    } catch (err) {
      await this.#tokens.discard(token);
      if (req.signal.aborted) throw err;
      throw connectionError(o.url, err);
    }
    const text = await res.text().catch(() => "");
    if (!res.ok) {
      await this.#tokens.discard(token);
      throw httpError(o.url, res.status, text, o.model);
    }
    const immediate = completionText(text);
    if (immediate !== undefined) {
      await this.#tokens.discard(token);
      req.onDelta(immediate);
      return { kind: "reply", text: immediate };
    }
    return { kind: "deferred" };
  }
}

function completionText(body: string): string | undefined {
  try {
    const j = JSON.parse(body) as { choices?: { message?: { content?: unknown } }[] };
    const c = j.choices?.[0]?.message?.content;
    return typeof c === "string" ? c : undefined;
  } catch {
    return undefined;
  }
}
