// A fake Twilio REST API (Messages.json) on a real HTTP server: Basic auth with the account SID and auth
// token, form-encoded parameters validated like Twilio does, its error JSON {code, message, more_info, status}
// and 429 (error 20429). Webhook requests to the gateway are signed with the official `twilio` package, so our
// verification is checked against an independent implementation.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import twilio from "twilio";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface TwilioSent {
  To: string;
  From?: string;
  MessagingServiceSid?: string;
  Body?: string;
  MediaUrl: string[];
  /** When the fake accepted it. */
  at?: number;
}

export class FakeTwilio {
  readonly accountSid = `AC${"a1".repeat(16)}`;
  readonly authToken = "fake-twilio-auth-token";
  readonly sent: TwilioSent[] = [];
  /** Next N sends answer 429 Too Many Requests. */
  rateLimitNext = 0;
  /** Accept this many messages before the rateLimitNext 429s begin. */
  rateLimitAfter = 0;
  /** Refused sends: HTTP status, Twilio error code, when. */
  readonly refused: { status: number; code: number; at: number }[] = [];
  #failures: { status: number; code: number; message: string }[] = [];
  #server: Server;
  url = "";

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
  }

  /**
   * The next send answers this Twilio error, e.g. 400 / 21610 "Attempt to send to unsubscribed recipient" or
   * 400 / 21211 "Invalid 'To' Phone Number" (twilio.com/docs/api/errors).
   */
  failNext(status: number, code: number, message: string) {
    this.#failures.push({ status, code, message });
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    const error = (status: number, code: number, message: string) => {
      this.refused.push({ status, code, at: Date.now() });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),
      );
    };
    const m = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(req.url ?? "");
    if (!m || req.method !== "POST") return error(404, 20404, "The requested resource was not found");
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString("base64")}`;
    if (req.headers.authorization !== expected || m[1] !== this.accountSid)
      return error(401, 20003, "Authenticate");
    if (!String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) {
      return error(400, 20001, "Invalid content type");
    }
    const form = new URLSearchParams(raw.toString("utf8"));
    const msg: TwilioSent = {
      To: form.get("To") ?? "",
      From: form.get("From") ?? undefined,
      MessagingServiceSid: form.get("MessagingServiceSid") ?? undefined,
      Body: form.get("Body") ?? undefined,
      MediaUrl: form.getAll("MediaUrl"),
    };
    if (!msg.To) return error(400, 21604, "A 'To' phone number is required.");
    if (!msg.From && !msg.MessagingServiceSid) return error(400, 21603, "A 'From' phone number is required.");
    if (!msg.Body && msg.MediaUrl.length === 0) return error(400, 21602, "Message body is required.");
    if ((msg.Body?.length ?? 0) > 1600)
      return error(400, 21617, "The concatenated message body exceeds the 1600 character limit.");
    if (msg.MediaUrl.length > 10) return error(400, 21623, "Number of media files exceeds allowed limit.");
    const failure = this.#failures.shift();
    if (failure) return error(failure.status, failure.code, failure.message);
    if (this.rateLimitNext > 0 && this.rateLimitAfter > 0) this.rateLimitAfter--;
    else if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      return error(429, 20429, "Too Many Requests");
    }
    msg.at = Date.now();
    this.sent.push(msg);
    const sid = `SM${randomBytes(16).toString("hex")}`;
    res.writeHead(201, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        sid,
        account_sid: this.accountSid,
        to: msg.To,
        from: msg.From ?? null,
        messaging_service_sid: msg.MessagingServiceSid ?? null,
        body: msg.Body ?? "",
        status: "queued",
        num_media: String(msg.MediaUrl.length),
        error_code: null,
        error_message: null,
      }),
    );
  }
}

/** The parameters Twilio posts for an inbound SMS (or MMS with media). */
export function inboundParams(
  accountSid: string,
  o: { from?: string; body?: string; sid?: string; media?: { url: string; type: string }[] } = {},
): Record<string, string> {
  const params: Record<string, string> = {
    ToCountry: "US",
    SmsMessageSid: o.sid ?? `SM${randomBytes(16).toString("hex")}`,
    NumMedia: String(o.media?.length ?? 0),
    SmsSid: "",
    SmsStatus: "received",
    Body: o.body ?? "hello",
    To: "+15550001111",
    NumSegments: "1",
    MessageSid: "",
    AccountSid: accountSid,
    From: o.from ?? "+15551230001",
    ApiVersion: "2010-04-01",
  };
  params.MessageSid = params.SmsMessageSid!;
  params.SmsSid = params.SmsMessageSid!;
  for (const [i, m] of (o.media ?? []).entries()) {
    params[`MediaUrl${i}`] = m.url;
    params[`MediaContentType${i}`] = m.type;
  }
  return params;
}

/** X-Twilio-Signature as Twilio computes it, by the official SDK. */
export function twilioSign(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}
