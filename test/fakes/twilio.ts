// A fake Twilio REST API (Messages.json) on a real HTTP server: Basic auth with the account SID and auth
// token, form-encoded parameters validated like Twilio does, its error JSON {code, message, more_info, status}
// and 429 (error 20429). A sender past its MPS is not refused: Twilio queues the message and sends it at the
// sender's rate (twilio.com/docs/api/errors/30001), so the fake records how long each would wait in that queue.
// Webhook requests to the gateway are signed with the official `twilio` package, so our
// verification is checked against an independent implementation.
//
// MMS media as Twilio serves it: GET /2010-04-01/Accounts/{sid}/Messages/{MM…}/Media/{ME…} (Basic auth when the
// account has "HTTP Basic authentication for media" on) answers 307 to a signed URL on a second server, the
// CDN (mms.twiliocdn.com / S3 in production), which serves the bytes with their Content-Type and wants no
// credentials.
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
  /** How long it would sit in Twilio's queue behind the sender's MPS before going out. */
  queuedMs?: number;
}

/** One request for media, on the API (first hop) or the CDN (where it redirects). */
export interface MediaHit {
  server: "api" | "cdn";
  path: string;
  authorization?: string;
}

export class FakeTwilio {
  readonly accountSid = `AC${"a1".repeat(16)}`;
  readonly authToken = "fake-twilio-auth-token";
  readonly sent: TwilioSent[] = [];
  /** What GET Accounts/{sid}.json reports: "active", "suspended" or "closed". */
  accountStatus = "active";
  /** Next N sends answer 429 Too Many Requests. */
  rateLimitNext = 0;
  /** Accept this many messages before the rateLimitNext 429s begin. */
  rateLimitAfter = 0;
  /** Refused sends: HTTP status, Twilio error code, when. */
  readonly refused: { status: number; code: number; at: number }[] = [];
  /** Media requests Basic auth, as with the account setting "HTTP Basic authentication for media" on. */
  mediaAuth = true;
  readonly mediaHits: MediaHit[] = [];
  /** Message segments per second a sender (From or MessagingServiceSid) sends: 1 for a US long code. */
  senderMps = 1;
  #nextSlot = new Map<string, number>();
  #media = new Map<string, { bytes: Buffer; type: string; token: string }>();
  #failures: { status: number; code: number; message: string }[] = [];
  #server: Server;
  #cdn: Server;
  url = "";
  cdnUrl = "";

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#cdn = createServer((req, res) => this.#serveCdn(req, res));
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    this.cdnUrl = await listenLocal(this.#cdn);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
    await closeServer(this.#cdn);
  }

  /** Keeps a media file as an inbound MMS's and returns its MediaUrl (what the webhook's MediaUrlN carries). */
  addMedia(bytes: Buffer, type: string): string {
    const messageSid = `MM${randomBytes(16).toString("hex")}`;
    const mediaSid = `ME${randomBytes(16).toString("hex")}`;
    this.#media.set(mediaSid, { bytes, type, token: randomBytes(12).toString("hex") });
    return `${this.url}/2010-04-01/Accounts/${this.accountSid}/Messages/${messageSid}/Media/${mediaSid}`;
  }

  #serveMedia(req: IncomingMessage, res: ServerResponse, sid: string, mediaSid: string) {
    this.mediaHits.push({ server: "api", path: req.url ?? "", authorization: req.headers.authorization });
    const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString("base64")}`;
    const error = (status: number, code: number, message: string) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status }),
      );
    };
    if (this.mediaAuth && (req.headers.authorization !== expected || sid !== this.accountSid))
      return error(401, 20003, "Authenticate");
    const media = this.#media.get(mediaSid);
    if (!media) return error(404, 20404, "The requested resource was not found");
    res.writeHead(307, {
      location: `${this.cdnUrl}/${this.accountSid}/${mediaSid}?Expires=${Math.floor(Date.now() / 1000) + 14400}&Signature=${media.token}`,
    });
    res.end();
  }

  #serveCdn(req: IncomingMessage, res: ServerResponse) {
    this.mediaHits.push({ server: "cdn", path: req.url ?? "", authorization: req.headers.authorization });
    const u = new URL(req.url ?? "/", this.cdnUrl);
    const media = this.#media.get(u.pathname.split("/").at(-1) ?? "");
    // A signed URL: the signature is the credential; an Authorization header is not expected here.
    if (!media || u.searchParams.get("Signature") !== media.token || req.method !== "GET") {
      res.writeHead(403, { "content-type": "application/xml" });
      res.end("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>");
      return;
    }
    res.writeHead(200, { "content-type": media.type, "content-length": media.bytes.length });
    res.end(media.bytes);
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
    const media = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\/MM[0-9a-f]{32}\/Media\/(ME[0-9a-f]{32})$/.exec(
      req.url ?? "",
    );
    if (media && req.method === "GET") return this.#serveMedia(req, res, media[1]!, media[2]!);
    const account = /^\/2010-04-01\/Accounts\/([^/]+)\.json$/.exec(req.url ?? "");
    if (account && req.method === "GET") {
      const expected = `Basic ${Buffer.from(`${this.accountSid}:${this.authToken}`).toString("base64")}`;
      if (req.headers.authorization !== expected || account[1] !== this.accountSid)
        return error(401, 20003, "Authenticate");
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          sid: this.accountSid,
          friendly_name: "Fake account",
          status: this.accountStatus,
          type: "Full",
          uri: `/2010-04-01/Accounts/${this.accountSid}.json`,
        }),
      );
    }
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
    const sender = msg.MessagingServiceSid ?? msg.From!;
    const slot = Math.max(performance.now(), this.#nextSlot.get(sender) ?? 0);
    msg.queuedMs = slot - performance.now();
    this.#nextSlot.set(sender, slot + 1000 / this.senderMps);
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
