// The WeChat Official Account API: an access token (fetched with appId/appSecret, shared through the store so
// replicas do not invalidate each other's, refreshed before expiry and once more when WeChat says it is
// invalid), the customer-service message API for replies that miss the passive-reply window (text, and images
// uploaded as temporary media first).
// WeChat answers HTTP 200 with {errcode, errmsg}; errcode is mapped onto what the outbox understands.
import type { Logger } from "pino";
import type { Store } from "../../store/types.ts";
import { platformFetch } from "../shared/platform-fetch.ts";
import { PermanentDeliveryError, RateLimitedError } from "../types.ts";

export const WECHAT_API_BASE = "https://api.weixin.qq.com";
const TOKEN_NAMESPACE = "wechat-token";
/** Refresh this long before WeChat's expiry, so a token never dies mid-request. */
const EXPIRY_MARGIN_MS = 5 * 60 * 1000;
export const TOKEN_INVALID = new Set([40001, 40014, 42001]);

export interface WechatClientOptions {
  appId: string;
  appSecret: string;
  apiBase: string;
  store: Store;
  log: Logger;
}

interface WechatReply {
  errcode?: number;
  errmsg?: string;
  access_token?: string;
  expires_in?: number;
  media_id?: string;
}

export class WechatClient {
  readonly #o: WechatClientOptions;
  #token: { value: string; expiresAt: number } | undefined;
  #refreshing: Promise<string> | undefined;

  constructor(options: WechatClientOptions) {
    this.#o = options;
  }

  async sendText(openId: string, content: string): Promise<void> {
    await this.#withToken("WeChat message/custom/send", (token) =>
      platformFetch<WechatReply>(
        `${this.#o.apiBase}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`,
        {
          what: "WeChat message/custom/send",
          body: { touser: openId, msgtype: "text", text: { content } },
        },
      ),
    );
  }

  async sendImage(openId: string, mediaId: string): Promise<void> {
    await this.#withToken("WeChat message/custom/send", (token) =>
      platformFetch<WechatReply>(
        `${this.#o.apiBase}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`,
        {
          what: "WeChat message/custom/send",
          body: { touser: openId, msgtype: "image", image: { media_id: mediaId } },
        },
      ),
    );
  }

  /** Uploads temporary media (kept three days by WeChat) and returns its media_id. */
  async uploadMedia(type: "image", bytes: Buffer, mime: string, filename: string): Promise<string> {
    const what = "WeChat media/upload";
    const body = await this.#withToken(what, (token) => {
      const form = new FormData();
      form.set("media", new Blob([new Uint8Array(bytes)], { type: mime }), filename);
      return platformFetch<WechatReply>(
        `${this.#o.apiBase}/cgi-bin/media/upload?access_token=${encodeURIComponent(token)}&type=${type}`,
        { what, body: form, timeoutMs: 120_000 },
      );
    });
    if (!body.media_id) throw new Error(`${what}: no media_id in the answer`);
    return body.media_id;
  }

  /**
   * Runs `call` with the access token; when WeChat says the token is invalid or expired (`tokenRefused`), the
   * token is dropped and `call` runs once more with a fresh one. For calls whose answer is not a WechatReply
   * (a media download).
   */
  async withAccessToken<T>(call: (token: string) => Promise<T>, tokenRefused: (r: T) => boolean): Promise<T> {
    const token = await this.#accessToken();
    const first = await call(token);
    if (!tokenRefused(first)) return first;
    await this.#forget(token);
    return call(await this.#accessToken());
  }

  async #withToken(what: string, call: (token: string) => Promise<{ body: WechatReply }>) {
    // The cached token was revoked (another tool fetched a new one) or expired early: refresh once.
    const { body } = await this.withAccessToken(call, (r) => TOKEN_INVALID.has(r.body?.errcode ?? 0));
    throwForErrcode(what, body);
    return body;
  }

  async #accessToken(): Promise<string> {
    const now = Date.now();
    if (this.#token && this.#token.expiresAt > now) return this.#token.value;
    this.#refreshing ??= this.#fetchToken().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #fetchToken(): Promise<string> {
    const shared = await this.#o.store.kvGet(TOKEN_NAMESPACE, this.#o.appId);
    if (shared) {
      const { value, expiresAt } = JSON.parse(shared) as { value: string; expiresAt: number };
      if (expiresAt > Date.now()) {
        this.#token = { value, expiresAt };
        return value;
      }
    }
    const url = new URL(`${this.#o.apiBase}/cgi-bin/token`);
    url.searchParams.set("grant_type", "client_credential");
    url.searchParams.set("appid", this.#o.appId);
    url.searchParams.set("secret", this.#o.appSecret);
    const { body } = await platformFetch<WechatReply>(url.toString(), { what: "WeChat cgi-bin/token" });
    if (!body?.access_token) {
      throwForErrcode("WeChat cgi-bin/token", { errcode: body?.errcode ?? -2, errmsg: body?.errmsg });
      throw new PermanentDeliveryError("WeChat cgi-bin/token: no access_token in the answer");
    }
    const ttlMs = Math.max(60_000, (body.expires_in ?? 7200) * 1000 - EXPIRY_MARGIN_MS);
    this.#token = { value: body.access_token, expiresAt: Date.now() + ttlMs };
    await this.#o.store.kvSet(TOKEN_NAMESPACE, this.#o.appId, JSON.stringify(this.#token), ttlMs);
    this.#o.log.debug({ appId: this.#o.appId }, "WeChat access token refreshed");
    return body.access_token;
  }

  async #forget(token: string) {
    if (this.#token?.value === token) this.#token = undefined;
    const shared = await this.#o.store.kvGet(TOKEN_NAMESPACE, this.#o.appId);
    if (shared && (JSON.parse(shared) as { value: string }).value === token) {
      await this.#o.store.kvDelete(TOKEN_NAMESPACE, this.#o.appId);
    }
  }
}

/** errcode → outcome. Codes from WeChat's global return-code table. */
export function throwForErrcode(what: string, body: WechatReply | undefined): void {
  const code = body?.errcode ?? 0;
  if (code === 0) return;
  const msg = `${what}: errcode ${code} ${body?.errmsg ?? ""}`.trim();
  switch (code) {
    case -1: // system busy
      throw new Error(`${msg} (WeChat is busy; retrying)`);
    case 45009: // daily API quota reached
      throw new RateLimitedError(60_000, `${msg} (daily API quota reached)`);
    case 45011: // API called too often
      throw new RateLimitedError(1_000, msg);
    case 45015:
      throw new PermanentDeliveryError(
        `${msg}: the user has not written to the account in the last 48 hours, so WeChat refuses customer-service messages`,
      );
    case 45047:
      throw new PermanentDeliveryError(
        `${msg}: too many customer-service messages since the user last wrote`,
      );
    case 40013:
    case 40125:
    case 40164:
      throw new PermanentDeliveryError(
        `${msg}: check OPENCLAW_CONNECTOR_WECHAT_APP_ID / _APP_SECRET and the IP allowlist in the WeChat console`,
      );
    default:
      throw new PermanentDeliveryError(msg);
  }
}
