// The LINE Messaging API calls clawgate makes: reply (with the single-use reply token) and push (with
// X-Line-Retry-Key, so a retried push is delivered once: LINE answers 409 to a key it already accepted).
import { createHash } from "node:crypto";
import { Pacer } from "../../runtime/pacer.ts";
import { pacedCall } from "../shared/paced-call.ts";
import { PlatformClientError, platformFetch } from "../shared/platform-fetch.ts";
import type { LineMessage } from "./format.ts";

interface SentResponse {
  sentMessages?: { id: string }[];
}

/** LINE wants the retry key as a UUID; ours is derived from the outbox idempotency key, so retries reuse it. */
export function retryKeyFor(idempotencyKey: string): string {
  const h = createHash("sha256").update(idempotencyKey).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * LINE limits each endpoint per channel (bot): reply and push fall under "Other API endpoints", 2,000 requests
 * per second each (Messaging API reference, "Rate limits":
 * developers.line.biz/en/reference/messaging-api/#rate-limits). LINE's "Best practices for preventing HTTP status
 * code 429 errors" warns that a limiter set at the limit itself can still exceed it, depending on when requests
 * reach the platform, and asks for a margin: we pace each endpoint at 1,900/s (95 %) with a burst of 100, which
 * leaves LINE's bucket about a second's worth of requests for bunched arrivals. The per-chat bucket is not a LINE
 * limit: it keeps one conversation's long chunked answer from landing all at once.
 */
export const LINE_PACE = {
  endpoint: { ratePerSec: 1900, burst: 100 },
  chat: { ratePerSec: 5, burst: 5 },
};

export class LineClient {
  readonly #base: string;
  readonly #token: string;
  readonly #pacer = new Pacer();

  constructor(apiBase: string, token: string) {
    this.#base = apiBase;
    this.#token = token;
  }

  async reply(replyToken: string, messages: LineMessage[], chat: string): Promise<string | undefined> {
    const r = await this.#post("/v2/bot/message/reply", { replyToken, messages }, chat, "LINE reply");
    return r?.sentMessages?.at(-1)?.id;
  }

  async push(to: string, messages: LineMessage[], retryKey?: string): Promise<string | undefined> {
    try {
      const r = await this.#post("/v2/bot/message/push", { to, messages }, to, "LINE push", retryKey);
      return r?.sentMessages?.at(-1)?.id;
    } catch (err) {
      // 409 with our retry key: an earlier attempt of this very push was accepted. Nothing left to do.
      // LINE repeats what that attempt sent.
      if (err instanceof PlatformClientError && err.status === 409 && retryKey) {
        const sent = (err.body as SentResponse | undefined)?.sentMessages;
        return Array.isArray(sent) ? sent.at(-1)?.id : undefined;
      }
      throw err;
    }
  }

  /** GET /v2/bot/info: the bot this token belongs to. */
  async botInfo(): Promise<{ userId: string; basicId?: string; displayName?: string }> {
    return this.#get("/v2/bot/info", "LINE bot info");
  }

  /** GET /v2/bot/channel/webhook/endpoint: the webhook URL set in the console, and whether it is in use. */
  async webhookEndpoint(): Promise<{ endpoint: string; active: boolean }> {
    return this.#get("/v2/bot/channel/webhook/endpoint", "LINE webhook endpoint");
  }

  async #get<T>(path: string, what: string): Promise<T> {
    const res = await platformFetch<T>(`${this.#base}${path}`, {
      headers: { authorization: `Bearer ${this.#token}` },
      what,
      timeoutMs: 15_000,
    });
    return res.body;
  }

  async #post(path: string, body: unknown, chat: string, what: string, retryKey?: string) {
    const endpoint = `endpoint:${path}`;
    const keys = [
      { key: endpoint, ...LINE_PACE.endpoint },
      { key: `chat:${chat}`, ...LINE_PACE.chat },
    ];
    // LINE limits per endpoint and bot (channel), not per chat: a 429 holds every send to that endpoint.
    return pacedCall(this.#pacer, keys, endpoint, async () => {
      const res = await platformFetch<SentResponse>(`${this.#base}${path}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(retryKey ? { "x-line-retry-key": retryKey } : {}),
        },
        body,
        what,
      });
      return res.body;
    });
  }
}
