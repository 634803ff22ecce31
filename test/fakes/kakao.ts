// A fake Kakao skill-callback receiver on a real HTTP server: it issues one-time callback URLs (valid one
// minute, usable once, as Kakao's are) and answers like Kakao's callback endpoint; it also serves pictures
// users sent, as Kakao's CDN (talk.kakaocdn.net) does, by unguessable URL and without credentials; plus a
// builder for the SkillPayload Kakao sends to a skill server, with a photo or the secure image plugin's URLs.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface ReceivedCallback {
  token: string;
  /** When the fake accepted it. */
  at?: number;
  body: {
    version?: string;
    template?: {
      outputs?: { simpleText?: { text: string }; simpleImage?: { imageUrl: string; altText: string } }[];
      quickReplies?: unknown[];
    };
  };
}

export class FakeKakao {
  readonly received: ReceivedCallback[] = [];
  /** Every request that reached the server, accepted or not. */
  hits = 0;
  /** Next N callbacks answer 429 with this Retry-After (seconds). */
  rateLimitNext: { count: number; retryAfterSec: number } | undefined;
  /**
   * The next callback is answered 307 to this URL. Kakao's endpoint does not redirect; this is an allowlisted
   * host gone wrong (compromised, or a proxy in front of it), which a gateway must not follow elsewhere.
   */
  redirectNext: string | undefined;
  /**
   * The next callback answers this status with Kakao's {status:"FAIL"} body: e.g. 400 for a callback URL that
   * expired (one minute) or was already used, which Kakao refuses for good.
   */
  failNext: { status: number; message: string } | undefined;
  /** Callbacks answered 429, and when. */
  readonly rateLimited: { at: number }[] = [];
  /** Requests for pictures (the CDN part), with the Authorization header each carried. */
  readonly imageHits: { path: string; authorization?: string }[] = [];
  #images = new Map<string, { bytes: Buffer; type: string }>();
  #tokens = new Map<string, { issuedAt: number; used: boolean }>();
  #server: Server;
  port = 0;

  constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    this.port = Number(new URL(await listenLocal(this.#server)).port);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
  }

  /** A fresh one-time callback URL under `host` (use "localhost" to get a host that is not allowlisted). */
  callbackUrl(host = "127.0.0.1"): string {
    const token = randomBytes(16).toString("hex");
    this.#tokens.set(token, { issuedAt: Date.now(), used: false });
    return `http://${host}:${this.port}/v1/bots/callback/${token}`;
  }

  /** A picture a user sent, served like talk.kakaocdn.net serves it; `host` as in callbackUrl. */
  addImage(bytes: Buffer, type = "image/jpeg", host = "127.0.0.1"): string {
    const token = randomBytes(16).toString("hex");
    this.#images.set(token, { bytes, type });
    return `http://${host}:${this.port}/dna/${token}/img.jpg?credential=${randomBytes(8).toString("hex")}`;
  }

  #serveImage(req: IncomingMessage, res: ServerResponse, token: string) {
    this.imageHits.push({ path: req.url ?? "", authorization: req.headers.authorization });
    const image = this.#images.get(token);
    if (!image) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not Found");
      return;
    }
    res.writeHead(200, { "content-type": image.type, "content-length": image.bytes.length });
    res.end(image.bytes);
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const image = /^\/dna\/([0-9a-f]+)\/img\.jpg(\?|$)/.exec(req.url ?? "");
    if (image && req.method === "GET") return this.#serveImage(req, res, image[1]!);
    this.hits++;
    const raw = await readBody(req);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    const m = /^\/v1\/bots\/callback\/([0-9a-f]+)$/.exec(req.url ?? "");
    const entry = m ? this.#tokens.get(m[1]!) : undefined;
    if (this.redirectNext) {
      const location = this.redirectNext;
      this.redirectNext = undefined;
      res.writeHead(307, { location }).end();
      return;
    }
    if (req.method !== "POST" || !m || !entry)
      return json(404, { status: "FAIL", message: "invalid callback" });
    if (this.failNext) {
      const f = this.failNext;
      this.failNext = undefined;
      return json(f.status, { status: "FAIL", message: f.message });
    }
    if (this.rateLimitNext && this.rateLimitNext.count > 0) {
      this.rateLimitNext.count--;
      this.rateLimited.push({ at: Date.now() });
      return json(
        429,
        { status: "FAIL", message: "too many requests" },
        {
          "retry-after": String(this.rateLimitNext.retryAfterSec),
        },
      );
    }
    if (entry.used) return json(400, { status: "FAIL", message: "callback already used" });
    if (Date.now() - entry.issuedAt > 60_000)
      return json(400, { status: "FAIL", message: "callback expired" });
    let body: ReceivedCallback["body"];
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return json(400, { status: "FAIL", message: "invalid json" });
    }
    if (
      body.version !== "2.0" ||
      !Array.isArray(body.template?.outputs) ||
      body.template.outputs.length > 3
    ) {
      return json(400, { status: "FAIL", message: "invalid skill response" });
    }
    entry.used = true;
    this.received.push({ token: m[1]!, body, at: Date.now() });
    json(200, {
      taskId: randomBytes(8).toString("hex"),
      status: "SUCCESS",
      message: "OK",
      timestamp: Date.now(),
    });
  }
}

/** The SkillPayload Kakao i Open Builder posts to a skill server. */
export function skillPayload(o: {
  userId?: string;
  utterance?: string;
  callbackUrl?: string;
  /** A photo sent to the block: userRequest.params.media, with the photo's URL as the utterance. */
  photoUrl?: string;
  /** Pictures sent through the secure image plugin (@sys.plugin.secureimage) as its `secureimage` parameter. */
  secureImages?: string[];
}) {
  const secure = o.secureImages
    ? JSON.stringify({
        privacyAgreement: "Y",
        imageQuantity: String(o.secureImages.length),
        secureUrls: `List(${o.secureImages.join(", ")})`,
        expire: "2026-12-31T23:59:59",
      })
    : undefined;
  return {
    intent: { id: "intent-1", name: "fallback" },
    userRequest: {
      timezone: "Asia/Seoul",
      params: {
        ignoreMe: "true",
        surface: "Kakaotalk.plusfriend",
        ...(o.photoUrl ? { media: { type: "image", url: o.photoUrl } } : {}),
      },
      block: { id: "block-1", name: "fallback" },
      utterance: o.utterance ?? o.photoUrl ?? "hello",
      lang: "ko",
      user: {
        id: o.userId ?? "kakao_alice",
        type: "botUserKey",
        properties: { botUserKey: o.userId ?? "kakao_alice" },
      },
      ...(o.callbackUrl ? { callbackUrl: o.callbackUrl } : {}),
    },
    bot: { id: "bot-1", name: "clawgate" },
    action: {
      name: "skill",
      clientExtra: null,
      params: secure ? { secureimage: secure } : {},
      id: "action-1",
      detailParams: secure ? { secureimage: { origin: secure, value: secure, groupName: "" } } : {},
    },
  };
}
