// The Graph API calls for WhatsApp Cloud: send a message, upload media. Graph errors are {error:{code,…}}; its
// throughput and pair-rate codes arrive as HTTP 400 and are turned into RateLimitedError here.
import { Pacer } from "../../runtime/pacer.ts";
import { pacedCall } from "../shared/paced-call.ts";
import { PlatformClientError, platformFetch } from "../shared/platform-fetch.ts";
import { PermanentDeliveryError, RateLimitedError } from "../types.ts";

/** Graph error code → how long to wait. 130429 throughput, 131056 pair rate (one chat), 4/80007/131048 app limits. */
const RATE_CODES: Record<number, number> = {
  130429: 1000,
  131056: 6000,
  4: 60_000,
  80007: 60_000,
  131048: 60_000,
};

/**
 * Meta's limits for one business number
 * (developers.facebook.com/documentation/business-messaging/whatsapp/throughput): a throughput of 80 messages
 * per second by default (error 130429 beyond it; higher tiers are set with `throughputMps`), and a pair rate of
 * about one message every 6 seconds to the same WhatsApp user (error 131056), with short bursts tolerated but not
 * sized. We send at both rates but let only a third of a second's messages go at once: requests taken on time can
 * reach Meta bunched (a busy machine, uneven transit) and Meta meters arrivals, so the unused two thirds absorb
 * that. A pair burst of 20 lets a chunked answer go out at once.
 */
export function whatsappPace(throughputMps: number) {
  return {
    number: { ratePerSec: throughputMps, burst: Math.max(1, Math.floor(throughputMps / 3)) },
    pair: { ratePerSec: 1 / 6, burst: 20 },
  };
}

export class WhatsappClient {
  readonly #base: string;
  readonly #token: string;
  readonly #pacer = new Pacer();
  readonly #pace: ReturnType<typeof whatsappPace>;

  constructor(apiBase: string, apiVersion: string, phoneNumberId: string, token: string, throughputMps = 80) {
    this.#base = `${apiBase}/${apiVersion}/${phoneNumberId}`;
    this.#token = token;
    this.#pace = whatsappPace(throughputMps);
  }

  async sendMessage(to: string, body: Record<string, unknown>): Promise<string | undefined> {
    const r = await this.#call<{ messages?: { id: string }[] }>("/messages", body, to, "WhatsApp messages");
    return r.messages?.[0]?.id;
  }

  async uploadMedia(bytes: Buffer, mime: string, filename: string, to: string): Promise<string> {
    const form = new FormData();
    form.set("messaging_product", "whatsapp");
    form.set("type", mime);
    form.set("file", new Blob([new Uint8Array(bytes)], { type: mime }), filename);
    const r = await this.#call<{ id?: string }>("/media", form, to, "WhatsApp media upload");
    if (!r.id) throw new Error("WhatsApp media upload: no media id in the response");
    return r.id;
  }

  /** GET /{version}/{phone-number-id}: the number this id and token stand for (mapped errors, not paced). */
  async phoneNumber(): Promise<{ id: string; display_phone_number?: string; verified_name?: string }> {
    try {
      const res = await platformFetch<{ id: string }>(this.#base, {
        headers: { authorization: `Bearer ${this.#token}` },
        what: "WhatsApp phone number",
        timeoutMs: 15_000,
      });
      return res.body;
    } catch (err) {
      throw mapGraphError(err, "WhatsApp phone number");
    }
  }

  async #call<T>(path: string, body: unknown, chat: string, what: string): Promise<T> {
    const buckets = [
      { key: "global", ...this.#pace.number },
      { key: `chat:${chat}`, ...this.#pace.pair },
    ];
    // The pair rate (131056) holds only this user; the number's throughput and the app's limits hold every send.
    const blockKey = (err: RateLimitedError) =>
      err.retryAfterMs === RATE_CODES[131056] ? `chat:${chat}` : "global";
    return pacedCall(this.#pacer, buckets, blockKey, async () => {
      try {
        const res = await platformFetch<T>(`${this.#base}${path}`, {
          method: "POST",
          headers: { authorization: `Bearer ${this.#token}` },
          body,
          what,
          timeoutMs: path === "/media" ? 120_000 : 30_000,
        });
        return res.body;
      } catch (err) {
        throw mapGraphError(err, what);
      }
    });
  }
}

function mapGraphError(err: unknown, what: string): unknown {
  if (!(err instanceof PlatformClientError)) return err;
  const e = (err.body as { error?: { code?: number; message?: string } } | undefined)?.error;
  const code = Number(e?.code);
  if (RATE_CODES[code] !== undefined)
    return new RateLimitedError(RATE_CODES[code]!, `${what}: rate limited (${code})`);
  if (code === 190 || err.status === 401) {
    return new PermanentDeliveryError(
      `${what}: access token rejected (${e?.message ?? err.status}); set a valid OPENCLAW_CONNECTOR_WHATSAPP_ACCESS_TOKEN`,
    );
  }
  return err;
}
