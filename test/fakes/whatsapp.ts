// A fake WhatsApp Cloud API (Graph API): /{version}/{phone-number-id}/messages and /media with bearer auth,
// Graph's {error:{message,type,code,fbtrace_id}} shapes, throughput limits as code 130429 (HTTP 400, as Graph
// sends it) or plain HTTP 429. Messages are metered as Meta meters them: the number's throughput (80 a second
// by default) and the pair rate to one user (about one every 6 s, short bursts tolerated), refused past them
// with 130429 and 131056 (HTTP 400). Records what it accepted; signs webhooks like Meta (X-Hub-Signature-256).
// Inbound media as Meta serves it: GET /{version}/{media-id} (bearer) → {messaging_product, url, mime_type,
// sha256 (hex), file_size (a string), id}; the url (lookaside.fbsbx.com in production, this server here) needs
// the same bearer token and answers the bytes with their Content-Type; a gone media id is Graph's code 100.
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Limit, RateMeter } from "./rate-meter.ts";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface WaSent {
  body: Record<string, unknown>;
  at: number;
}

export interface WaUpload {
  id: string;
  type: string;
  bytes: Buffer;
  filename: string;
}

export interface WaMedia {
  bytes: Buffer;
  mime: string;
  /** What the lookup declares instead of the real digest (a file that does not match). */
  sha256?: string;
  /** What the lookup declares instead of the real size. */
  fileSize?: number;
  /** The download URL the lookup answers instead of this server's (a host that is not Meta's). */
  url?: string;
  gone?: boolean;
}

export class FakeWhatsapp {
  readonly token: string;
  readonly phoneNumberId: string;
  readonly version = "v23.0";
  readonly sent: WaSent[] = [];
  readonly uploads: WaUpload[] = [];
  readonly refused: { status: number; code: number; at: number }[] = [];
  /** Inbound media a test registered (addMedia), by media id. */
  readonly media = new Map<string, WaMedia>();
  /** Every media lookup and download: the path, the media id downloaded (mid) and whether the right token came. */
  readonly mediaRequests: { path: string; mid?: string; authorized: boolean }[] = [];
  url = "";
  #rateLimit = { count: 0, code: 130429, skip: 0 };
  /**
   * Meta's limits (developers.facebook.com/documentation/business-messaging/whatsapp/throughput); null turns them
   * off. Meta does not size the pair burst it tolerates: this fake allows 30.
   */
  limits: { number: Limit; pair: Limit } | null = {
    number: { perSec: 80, burst: 80 },
    pair: { perSec: 1 / 6, burst: 30 },
  };
  readonly meter = new RateMeter();
  #failures: { status: number; code: number; message: string }[] = [];
  #server: Server;

  constructor(o: { token?: string; phoneNumberId?: string } = {}) {
    this.token = o.token ?? "EAAG-test-token";
    this.phoneNumberId = o.phoneNumberId ?? "106540352242922";
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) => res.writeHead(500).end(String(err)));
    });
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
  }

  /**
   * The next `count` sends fail with Graph's rate-limit error `code` (HTTP 400), or HTTP 429 when code is 429;
   * with `skip`, that many calls succeed first.
   */
  rateLimitNext(count: number, code = 130429, skip = 0) {
    this.#rateLimit = { count, code, skip };
  }

  /**
   * The next send fails with this Graph error, e.g. 400 / 131030 "Recipient phone number not in allowed list"
   * or 400 / 131047 "Re-engagement message" (Cloud API "Error codes").
   */
  failNext(status: number, code: number, message: string) {
    this.#failures.push({ status, code, message });
  }

  /** Registers a file a user sent; the id goes into a webhook's image/audio/document/… object. */
  addMedia(bytes: Buffer, mime: string, o: Partial<Omit<WaMedia, "bytes" | "mime">> & { id?: string } = {}) {
    const id = o.id ?? String(BigInt(`0x${randomBytes(6).toString("hex")}`));
    this.media.set(id, { bytes, mime, ...o });
    return id;
  }

  texts(): string[] {
    return this.sent.flatMap((s) => {
      const b = s.body as { type: string; text?: { body: string }; interactive?: { body: { text: string } } };
      if (b.type === "text") return [b.text!.body];
      if (b.type === "interactive") return [b.interactive!.body.text];
      return [];
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const raw = await readBody(req);
    const fail = (status: number, code: number, message: string, type = "OAuthException") => {
      this.refused.push({ status, code, at: Date.now() });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ error: { message, type, code, fbtrace_id: randomBytes(8).toString("base64url") } }),
      );
    };
    const url = new URL(req.url ?? "/", this.url);
    if (req.method === "GET") return this.#serveMedia(req, url, res, fail);
    const m = /^\/(v\d+\.\d+)\/(\d+)\/(messages|media)$/.exec(url.pathname);
    if (req.method !== "POST" || !m) return fail(400, 100, "Unknown path components", "GraphMethodException");
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return fail(401, 190, "Invalid OAuth access token - Cannot parse access token");
    if (m[2] !== this.phoneNumberId)
      return fail(
        400,
        100,
        `Unsupported post request. Object with ID '${m[2]}' does not exist`,
        "GraphMethodException",
      );
    if (this.#rateLimit.count > 0 && this.#rateLimit.skip > 0) this.#rateLimit.skip--;
    else if (this.#rateLimit.count > 0) {
      this.#rateLimit.count--;
      const code = this.#rateLimit.code;
      return code === 429
        ? fail(429, 4, "(#4) Application request limit reached")
        : fail(400, code, `(#${code}) Rate limit hit`);
    }
    if (m[3] === "media") return this.#media(req, raw, res, fail);
    const failure = this.#failures.shift();
    if (failure) return fail(failure.status, failure.code, failure.message);

    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return fail(400, 100, "(#100) The parameter messaging_product is required.");
    }
    const problem = validate(body, this.uploads);
    if (problem) return fail(400, 100, `(#100) ${problem}`);
    if (this.limits) {
      const { key } = this.meter.hit([
        ["number", this.limits.number],
        [`pair:${body.to}`, this.limits.pair],
      ]);
      if (key === "number") return fail(400, 130429, "(#130429) Rate limit hit");
      if (key) return fail(400, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit");
    }
    this.sent.push({ body, at: Date.now() });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        messaging_product: "whatsapp",
        contacts: [{ input: body.to, wa_id: body.to }],
        messages: [{ id: `wamid.${randomBytes(12).toString("hex")}` }],
      }),
    );
  }

  #serveMedia(
    req: IncomingMessage,
    url: URL,
    res: ServerResponse,
    fail: (s: number, c: number, m: string, type?: string) => void,
  ) {
    const authorized = req.headers.authorization === `Bearer ${this.token}`;
    const mid = url.searchParams.get("mid") ?? undefined;
    this.mediaRequests.push({ path: url.pathname, ...(mid ? { mid } : {}), authorized });
    if (url.pathname === "/whatsapp_business/attachments/") {
      // The download URL: without the token Meta's CDN answers 401, for a deleted file 404.
      const file = this.media.get(url.searchParams.get("mid") ?? "");
      if (!authorized) return res.writeHead(401, { "content-type": "text/plain" }).end("Unauthorized");
      if (!file || file.gone) return res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      res.writeHead(200, { "content-type": file.mime, "content-length": String(file.bytes.length) });
      return res.end(file.bytes);
    }
    const m = /^\/(v\d+\.\d+)\/(\d+)$/.exec(url.pathname);
    if (!m) return fail(400, 100, "Unknown path components", "GraphMethodException");
    if (!authorized) return fail(401, 190, "Invalid OAuth access token - Cannot parse access token");
    if (m[2] === this.phoneNumberId) {
      // The WhatsApp Business phone number node (Graph API reference, "WhatsApp Business Phone Number").
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(
        JSON.stringify({
          verified_name: "Fake Business",
          code_verification_status: "VERIFIED",
          display_phone_number: "+1 555-000-0000",
          quality_rating: "GREEN",
          platform_type: "CLOUD_API",
          throughput: { level: "STANDARD" },
          id: this.phoneNumberId,
        }),
      );
    }
    const file = this.media.get(m[2]!);
    if (!file || file.gone) {
      return fail(
        400,
        100,
        `Unsupported get request. Object with ID '${m[2]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
        "GraphMethodException",
      );
    }
    const ext = Math.floor(Date.now() / 1000) + 300;
    const hash = createHmac("sha256", this.token).update(`${m[2]}:${ext}`).digest("base64url");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        messaging_product: "whatsapp",
        url: file.url ?? `${this.url}/whatsapp_business/attachments/?mid=${m[2]}&ext=${ext}&hash=${hash}`,
        mime_type: file.mime,
        sha256: file.sha256 ?? createHash("sha256").update(file.bytes).digest("hex"),
        file_size: String(file.fileSize ?? file.bytes.length),
        id: m[2],
      }),
    );
  }

  async #media(
    req: IncomingMessage,
    raw: Buffer,
    res: ServerResponse,
    fail: (s: number, c: number, m: string) => void,
  ) {
    const form = await new Request("http://x/", {
      method: "POST",
      headers: { "content-type": String(req.headers["content-type"] ?? "") },
      body: new Uint8Array(raw),
    })
      .formData()
      .catch(() => undefined);
    const file = form?.get("file");
    if (form?.get("messaging_product") !== "whatsapp" || !(file instanceof File))
      return fail(400, 100, "(#100) The parameter messaging_product and file are required.");
    const type = String(form!.get("type") ?? file.type);
    const limit = UPLOAD_LIMITS[type];
    if (!limit) return fail(400, 131053, "Media upload error: unsupported type");
    if (file.size > limit) return fail(400, 131053, "Media upload error: file too large");
    const id = String(1000 + this.uploads.length);
    this.uploads.push({ id, type, bytes: Buffer.from(await file.arrayBuffer()), filename: file.name });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id }));
  }
}

/** What /media takes, and up to how many bytes: images 5 MB, documents 100 MB (Meta's supported media types). */
const MB = 1024 * 1024;
const UPLOAD_LIMITS: Record<string, number> = {
  "image/jpeg": 5 * MB,
  "image/png": 5 * MB,
  ...Object.fromEntries(
    [
      "application/pdf",
      "text/plain",
      "application/msword",
      "application/vnd.ms-excel",
      "application/vnd.ms-powerpoint",
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ].map((t) => [t, 100 * MB]),
  ),
};

function validate(b: Record<string, unknown>, uploads: WaUpload[]): string | undefined {
  if (b.messaging_product !== "whatsapp") return "The parameter messaging_product is required.";
  if (typeof b.to !== "string" || !/^\d{6,15}$/.test(b.to)) return "Invalid parameter 'to'";
  if (b.type === "text") {
    const text = (b.text as { body?: string } | undefined)?.body;
    if (!text || text.length > 4096) return "Param text['body'] must be 1-4096 characters";
  } else if (b.type === "image") {
    const img = b.image as { id?: string; link?: string };
    if (img.id && !uploads.some((u) => u.id === img.id)) return "Invalid media id";
    if (!img.id && !img.link?.startsWith("https://")) return "Param image['link'] must be an https URL";
  } else if (b.type === "document") {
    const doc = b.document as { id?: string; link?: string; filename?: string };
    if (doc.id && !uploads.some((u) => u.id === doc.id)) return "Invalid media id";
    if (!doc.id && !doc.link?.startsWith("https://")) return "Param document['link'] must be an https URL";
    if (doc.filename !== undefined && typeof doc.filename !== "string")
      return "Param document['filename'] must be a string";
  } else if (b.type === "interactive") {
    const i = b.interactive as {
      type: string;
      body?: { text?: string };
      action: { buttons?: { reply: { title: string } }[] };
    };
    if (!i.body?.text || i.body.text.length > 1024)
      return "Param interactive['body']['text'] must be 1-1024 characters";
    if (i.type === "button") {
      const buttons = i.action.buttons ?? [];
      if (buttons.length < 1 || buttons.length > 3)
        return "Param interactive['action']['buttons'] must have 1-3 items";
      if (buttons.some((x) => !x.reply.title || x.reply.title.length > 20))
        return "Button title length invalid";
    }
  } else return `Unsupported message type ${String(b.type)}`;
  return undefined;
}

export function hubSignature(appSecret: string, body: string): string {
  return `sha256=${createHmac("sha256", appSecret).update(body).digest("hex")}`;
}

/** A webhook payload with one message, as Meta delivers it. */
export function waMessagePayload(
  phoneNumberId: string,
  message: Record<string, unknown>,
  o: { name?: string } = {},
): Record<string, unknown> {
  return {
    object: "whatsapp_business_account",
    entry: [
      {
        id: "WABA_ID",
        changes: [
          {
            field: "messages",
            value: {
              messaging_product: "whatsapp",
              metadata: { display_phone_number: "15550000000", phone_number_id: phoneNumberId },
              contacts: [{ profile: { name: o.name ?? "Alice" }, wa_id: message.from }],
              messages: [{ timestamp: String(Math.floor(Date.now() / 1000)), ...message }],
            },
          },
        ],
      },
    ],
  };
}

export function waText(from: string, text: string, id = `wamid.${randomBytes(10).toString("hex")}`) {
  return { from, id, type: "text", text: { body: text } };
}

/**
 * A message carrying media, a location or contacts, as Meta delivers it: `waMedia(from, "image", {id, caption})`,
 * `waMedia(from, "audio", {id, voice: true})`, `waMedia(from, "location", {latitude, longitude, name})`.
 */
export function waMedia(
  from: string,
  type: string,
  body: unknown,
  id = `wamid.${randomBytes(10).toString("hex")}`,
): Record<string, unknown> {
  return { from, id, type, [type]: body };
}
