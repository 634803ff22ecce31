// A fake of the platform on the other side of the signed-webhook channel: it sends signed webhooks to the
// gateway and receives the gateway's replies at its outbound URL, checking their signature itself (written
// independently of src/signature.ts, so a signing bug cannot hide behind a shared helper). A reply with a bad
// or stale signature is answered 401, as the platform would.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import { closeServer, listenLocal, readBody } from "../../../../test/fakes/shared.ts";

export interface ReceivedReply {
  conversation: string;
  text: string;
  kind?: string;
  inReplyTo?: string;
  idempotencyKey?: string;
  /** When the platform accepted it (ms). */
  at: number;
}

const hmac = (secret: string, ts: string, body: string | Buffer) =>
  `sha256=${createHmac("sha256", secret).update(`${ts}.`).update(body).digest("hex")}`;

export class FakeSignedPlatform {
  readonly replies: ReceivedReply[] = [];
  /** Replies the platform refused (bad signature), with the reason. */
  readonly refused: string[] = [];
  /** Requests answered with an error on purpose (failNext), with when. */
  readonly failures: { status: number; at: number }[] = [];
  #failNext: { status: number; headers: Record<string, string> }[] = [];
  url = "";
  readonly #server: Server;
  readonly #inboundSecret: string;
  readonly #outboundSecret: string;

  /** `inboundSecret`: what the platform signs webhooks with; `outboundSecret`: what it expects on replies. */
  constructor(inboundSecret: string, outboundSecret: string) {
    this.#inboundSecret = inboundSecret;
    this.#outboundSecret = outboundSecret;
    this.#server = createServer(async (req, res) => {
      const body = await readBody(req);
      const ts = String(req.headers["x-webhook-timestamp"] ?? "");
      const sig = Buffer.from(String(req.headers["x-webhook-signature"] ?? ""));
      const want = Buffer.from(hmac(this.#outboundSecret, ts, body));
      const fresh = Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
      if (!fresh || sig.length !== want.length || !timingSafeEqual(sig, want)) {
        this.refused.push(fresh ? "bad signature" : "stale timestamp");
        res.writeHead(401, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: "invalid signature" }));
      }
      const failure = this.#failNext.shift();
      if (failure) {
        this.failures.push({ status: failure.status, at: Date.now() });
        res.writeHead(failure.status, { "content-type": "application/json", ...failure.headers });
        return res.end(JSON.stringify({ error: failure.status === 429 ? "too many requests" : "rejected" }));
      }
      const reply = { ...(JSON.parse(body.toString("utf8")) as ReceivedReply), at: Date.now() };
      this.replies.push(reply);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ id: `out-${this.replies.length}` }));
    });
  }

  /** The next reply is answered with `status` (and headers, e.g. retry-after) instead of being accepted. */
  failNext(status: number, headers: Record<string, string> = {}) {
    this.#failNext.push({ status, headers });
  }

  /** When the platform last answered `status` on purpose. */
  lastRefusal(status: number): number | undefined {
    return this.failures.findLast((f) => f.status === status)?.at;
  }

  async start(): Promise<this> {
    this.url = `${await listenLocal(this.#server)}/replies`;
    return this;
  }

  stop() {
    return closeServer(this.#server);
  }

  /** Sends a webhook as the platform does; `atMs` signs it as of another time (a captured, replayed request). */
  async deliver(
    gatewayUrl: string,
    message: { id: string; from: string; conversation: string; text: string },
    opts: { atMs?: number; secret?: string; body?: string } = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const body = opts.body ?? JSON.stringify(message);
    const ts = String(Math.floor((opts.atMs ?? Date.now()) / 1000));
    const res = await fetch(gatewayUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-webhook-timestamp": ts,
        "x-webhook-signature": hmac(opts.secret ?? this.#inboundSecret, ts, body),
      },
      body,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }
}
