// A fake WeChat Official Account API (token endpoint, customer-service send, temporary media) on a real HTTP
// server, answering HTTP 200 with {errcode, errmsg} as WeChat does, plus helpers that sign and encrypt webhook
// requests the way WeChat's servers do. Temporary media: GET /cgi-bin/media/get answers the file with its
// Content-Type and Content-disposition, a video with {video_url} (served here as WeChat's CDN would), and an
// unknown or expired id with errcode 40007 — all with HTTP 200; POST /cgi-bin/media/upload?type=image takes a
// multipart "media" field (JPEG/PNG/GIF, 2 MB) and answers {type, media_id, created_at}.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { encryptMessage } from "../../src/channels/wechat/crypto.ts";
import { closeServer, listenLocal, readBody } from "./shared.ts";

export interface WechatSent {
  touser: string;
  msgtype: string;
  text?: { content: string };
  image?: { media_id: string };
  /** When the fake accepted it. */
  at?: number;
}

export class FakeWechat {
  readonly appId: string;
  readonly appSecret: string;
  readonly sent: WechatSent[] = [];
  /** Custom-send calls answered with an errcode by failNext: the code and when. */
  readonly refused: { errcode: number; at: number }[] = [];
  tokenRequests = 0;
  /** Files users sent (addMedia), by MediaId. */
  readonly media = new Map<string, { bytes: Buffer; mime: string; video?: boolean; gone?: boolean }>();
  /** Images the bot uploaded (media/upload), by media_id. */
  readonly uploads = new Map<string, { type: string; mime: string; bytes: Buffer; filename: string }>();
  /** Every media/get call and the errcode it was answered with (0: the file). */
  readonly mediaGets: { mediaId: string; errcode: number }[] = [];
  /** Next N custom-send calls (after `after` accepted ones) answer with this errcode (45009, 45011, -1 …). */
  failNext: { count: number; errcode: number; errmsg: string; after?: number } | undefined;
  #valid = new Set<string>();
  #server: Server;
  url = "";

  constructor(appId = "wx1234567890abcdef", appSecret = "fake-app-secret") {
    this.appId = appId;
    this.appSecret = appSecret;
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  async start(): Promise<this> {
    this.url = await listenLocal(this.#server);
    return this;
  }

  async stop() {
    await closeServer(this.#server);
  }

  /** Registers a file a user sent; the MediaId goes into a webhook's image, voice or video message. */
  addMedia(bytes: Buffer, mime: string, o: { video?: boolean } = {}): string {
    const id = randomBytes(48).toString("base64url");
    this.media.set(id, { bytes, mime, ...o });
    return id;
  }

  /** Revokes every issued token, as fetching a token elsewhere or expiry does. */
  revokeTokens() {
    this.#valid.clear();
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://x");
    const reply = (body: unknown) => {
      res.writeHead(200, { "content-type": "application/json; encoding=utf-8" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname === "/cgi-bin/token") {
      this.tokenRequests++;
      if (url.searchParams.get("grant_type") !== "client_credential") {
        return reply({ errcode: 40002, errmsg: "invalid grant_type" });
      }
      if (url.searchParams.get("appid") !== this.appId)
        return reply({ errcode: 40013, errmsg: "invalid appid" });
      if (url.searchParams.get("secret") !== this.appSecret) {
        return reply({ errcode: 40125, errmsg: "invalid appsecret" });
      }
      const token = randomBytes(24).toString("hex");
      this.#valid.add(token);
      return reply({ access_token: token, expires_in: 7200 });
    }
    if (req.method === "GET" && url.pathname.startsWith("/cdn/video/")) {
      // A video's download link: WeChat's CDN needs no token.
      const file = this.media.get(url.pathname.slice("/cdn/video/".length));
      if (!file) return res.writeHead(404).end();
      return res.writeHead(200, { "content-type": file.mime }).end(file.bytes);
    }
    if (req.method === "GET" && url.pathname === "/cgi-bin/media/get") {
      const mediaId = url.searchParams.get("media_id") ?? "";
      const answer = (errcode: number, body: unknown) => {
        this.mediaGets.push({ mediaId, errcode });
        reply(body);
      };
      const token = url.searchParams.get("access_token") ?? "";
      if (!token) return answer(41001, { errcode: 41001, errmsg: "access_token missing" });
      if (!this.#valid.has(token))
        return answer(40001, {
          errcode: 40001,
          errmsg: "invalid credential, access_token is invalid or not latest",
        });
      const file = this.media.get(mediaId);
      if (!file || file.gone) return answer(40007, { errcode: 40007, errmsg: "invalid media_id" });
      if (file.video) return answer(0, { video_url: `${this.url}/cdn/video/${mediaId}` });
      this.mediaGets.push({ mediaId, errcode: 0 });
      const ext = file.mime.split("/")[1] ?? "bin";
      res.writeHead(200, {
        "content-type": file.mime,
        "content-disposition": `attachment; filename="${mediaId.slice(0, 16)}.${ext}"`,
        "content-length": String(file.bytes.length),
      });
      return res.end(file.bytes);
    }
    if (req.method === "POST" && url.pathname === "/cgi-bin/media/upload") {
      const raw = await readBody(req);
      const token = url.searchParams.get("access_token") ?? "";
      if (!this.#valid.has(token))
        return reply({ errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest" });
      const type = url.searchParams.get("type") ?? "";
      if (!["image", "voice", "video", "thumb"].includes(type))
        return reply({ errcode: 40004, errmsg: "invalid media type" });
      const form = await new Request("http://x/", {
        method: "POST",
        headers: { "content-type": String(req.headers["content-type"] ?? "") },
        body: new Uint8Array(raw),
      })
        .formData()
        .catch(() => undefined);
      const file = form?.get("media");
      if (!(file instanceof File)) return reply({ errcode: 41005, errmsg: "media data missing" });
      const bytes = Buffer.from(await file.arrayBuffer());
      const kind = sniffImage(bytes);
      if (type === "image" && !kind) return reply({ errcode: 40005, errmsg: "invalid file type" });
      if (type === "image" && bytes.length > 2 * 1024 * 1024)
        return reply({ errcode: 40009, errmsg: "invalid image size" });
      const mediaId = randomBytes(48).toString("base64url");
      this.uploads.set(mediaId, { type, mime: kind ?? file.type, bytes, filename: file.name });
      return reply({ type, media_id: mediaId, created_at: Math.floor(Date.now() / 1000) });
    }
    if (req.method === "POST" && url.pathname === "/cgi-bin/message/custom/send") {
      const raw = await readBody(req);
      const token = url.searchParams.get("access_token") ?? "";
      if (!token) return reply({ errcode: 41001, errmsg: "access_token missing" });
      if (!this.#valid.has(token)) {
        return reply({ errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest" });
      }
      let body: WechatSent;
      try {
        body = JSON.parse(raw.toString("utf8"));
      } catch {
        return reply({ errcode: 47001, errmsg: "data format error" });
      }
      const isText = body.msgtype === "text" && typeof body.text?.content === "string";
      const isImage = body.msgtype === "image" && typeof body.image?.media_id === "string";
      if (!body.touser || (!isText && !isImage)) {
        return reply({ errcode: 47001, errmsg: "data format error" });
      }
      if (isText && Buffer.byteLength(body.text!.content) > 2048)
        return reply({ errcode: 45002, errmsg: "content size out of limit" });
      if (isImage && !this.uploads.has(body.image!.media_id))
        return reply({ errcode: 40007, errmsg: "invalid media_id" });
      if (this.failNext && this.failNext.count > 0) {
        if (this.failNext.after) this.failNext.after--;
        else {
          this.failNext.count--;
          this.refused.push({ errcode: this.failNext.errcode, at: Date.now() });
          return reply({ errcode: this.failNext.errcode, errmsg: this.failNext.errmsg });
        }
      }
      this.sent.push({ ...body, at: Date.now() });
      return reply({ errcode: 0, errmsg: "ok" });
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ errcode: 404, errmsg: "not found" }));
  }
}

function sniffImage(b: Buffer): string | undefined {
  if (b.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]))) return "image/jpeg";
  if (b.subarray(0, 8).equals(Buffer.from("89504e470d0a1a0a", "hex"))) return "image/png";
  if (b.subarray(0, 4).toString("latin1") === "GIF8") return "image/gif";
  return undefined;
}

// ---- what WeChat's servers send to a webhook ----

export const sha1Sorted = (parts: string[]) =>
  createHash("sha1")
    .update([...parts].sort().join(""))
    .digest("hex");

export interface WechatTextMessage {
  from?: string;
  to?: string;
  content?: string;
  msgId?: string;
  createTime?: number;
  type?: string;
  extra?: string;
}

export function wechatMessageXml(m: WechatTextMessage = {}): string {
  const type = m.type ?? "text";
  return (
    `<xml><ToUserName><![CDATA[${m.to ?? "gh_account"}]]></ToUserName>` +
    `<FromUserName><![CDATA[${m.from ?? "openid_alice"}]]></FromUserName>` +
    `<CreateTime>${m.createTime ?? Math.floor(Date.now() / 1000)}</CreateTime>` +
    `<MsgType><![CDATA[${type}]]></MsgType>` +
    (type === "text" ? `<Content><![CDATA[${m.content ?? "hello"}]]></Content>` : "") +
    (m.extra ?? "") +
    (m.msgId === ""
      ? ""
      : `<MsgId>${m.msgId ?? String(Date.now()) + String(Math.floor(Math.random() * 1e6))}</MsgId>`) +
    `</xml>`
  );
}

/** Query string WeChat adds to a plaintext webhook call. */
export function signedQuery(
  token: string,
  opts: { timestamp?: number; nonce?: string; badSignature?: boolean } = {},
) {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(Math.floor(Math.random() * 1e9));
  const signature = opts.badSignature ? "0".repeat(40) : sha1Sorted([token, timestamp, nonce]);
  return new URLSearchParams({ signature, timestamp, nonce, openid: "openid_alice" });
}

/** Safe mode: the XML envelope and query WeChat sends when the account uses AES encryption. */
export function encryptedRequest(token: string, aesKey: Buffer, appId: string, innerXml: string) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(Math.floor(Math.random() * 1e9));
  const encrypt = encryptMessage(aesKey, appId, innerXml);
  const query = new URLSearchParams({
    signature: sha1Sorted([token, timestamp, nonce]),
    timestamp,
    nonce,
    openid: "openid_alice",
    encrypt_type: "aes",
    msg_signature: sha1Sorted([token, timestamp, nonce, encrypt]),
  });
  return {
    query,
    body: `<xml><ToUserName><![CDATA[gh_account]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`,
  };
}

/**
 * Compatible mode: the same query as safe mode (encrypt_type=aes, msg_signature), and a body that carries the
 * plaintext fields beside Encrypt.
 */
export function compatibleRequest(token: string, aesKey: Buffer, appId: string, innerXml: string) {
  const { query } = encryptedRequest(token, aesKey, appId, innerXml);
  const encrypt = encryptMessage(aesKey, appId, innerXml);
  query.set("msg_signature", sha1Sorted([token, query.get("timestamp")!, query.get("nonce")!, encrypt]));
  const body = innerXml.replace("</xml>", `<Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`);
  return { query, body };
}
