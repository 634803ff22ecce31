// Twilio's Messages API: POST /2010-04-01/Accounts/{sid}/Messages.json, form-encoded, Basic auth with the
// account SID and auth token. Twilio errors are {code, message, more_info, status}; platformFetch maps 429 to
// a retry-later and other 4xx to a permanent failure that quotes Twilio's message.
import { platformFetch } from "../shared/platform-fetch.ts";

export const TWILIO_API_BASE = "https://api.twilio.com";

export interface TwilioSender {
  from?: string;
  messagingServiceSid?: string;
}

export class TwilioClient {
  readonly #base: string;
  readonly #sid: string;
  readonly #auth: string;

  /** HTTP Basic with the account SID and auth token: the Messages API, and media when the account protects it. */
  get authorization(): string {
    return this.#auth;
  }

  constructor(apiBase: string, accountSid: string, authToken: string) {
    this.#base = apiBase;
    this.#sid = accountSid;
    this.#auth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
  }

  /** GET /2010-04-01/Accounts/{sid}.json: the account these credentials open, and whether it is active. */
  async account(): Promise<{ sid: string; friendly_name?: string; status?: string }> {
    const { body } = await platformFetch<{ sid: string; friendly_name?: string; status?: string }>(
      `${this.#base}/2010-04-01/Accounts/${encodeURIComponent(this.#sid)}.json`,
      { what: "Twilio Accounts", headers: { authorization: this.#auth }, timeoutMs: 15_000 },
    );
    return body;
  }

  async sendMessage(
    sender: TwilioSender,
    to: string,
    body: string,
    mediaUrls: string[] = [],
  ): Promise<string> {
    const form = new URLSearchParams({ To: to });
    if (sender.messagingServiceSid) form.set("MessagingServiceSid", sender.messagingServiceSid);
    else form.set("From", sender.from ?? "");
    if (body) form.set("Body", body);
    for (const url of mediaUrls) form.append("MediaUrl", url);
    const { body: sent } = await platformFetch<{ sid?: string }>(
      `${this.#base}/2010-04-01/Accounts/${encodeURIComponent(this.#sid)}/Messages.json`,
      { what: "Twilio Messages.json", headers: { authorization: this.#auth }, body: form },
    );
    return sent?.sid ?? "";
  }
}
