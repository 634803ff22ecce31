// WeChat webhook: GET echoes echostr after the signature and timestamp checks; POST verifies the signature
// (plaintext) or msg_signature (safe mode), the timestamp window, parses the hardened XML, decrypts, normalizes,
// commits the event, and then answers with a passive reply if the answer is ready within 4.5 s, otherwise
// "success".
//
// In plaintext mode the signature covers only token, timestamp and nonce, not the body: one captured URL would
// carry any body for the whole window. So each (timestamp, nonce) pair is remembered in the store's kv for the
// window (shared by replicas) together with a hash of the body it came with: the same pair with another body is
// refused; with the same body it is WeChat's own retry of that message, which dedup answers as a duplicate.
// (WeChat retries up to three times when it has no answer in 5 s, with the same query string and body; a
// flat refusal of a reused pair would turn those retries into errors the user sees as "service failure".)
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InboundEvent } from "../../core/event.ts";
import { sendText } from "../../http/respond.ts";
import { withinWindow } from "../../security/hmac.ts";
import type { HealthTracker } from "../sdk/health.ts";
import { choiceKey, resolveChoice } from "../shared/reply-choices.ts";
import type { ChannelContext, OutboundMessage, WebhookRoute } from "../types.ts";
import { decryptMessage, encryptMessage, verifyWechatSignature, wechatSignature } from "./crypto.ts";
import {
  buildWechatXml,
  field,
  MAX_XML_BYTES,
  MalformedXmlError,
  parseWechatXml,
  UnsafeXmlError,
} from "./xml.ts";

const USED_NONCES = "wechat-nonce";

export interface WechatIngressOptions {
  account: string;
  path: string;
  token: string;
  appId?: string;
  aesKey?: Buffer;
  windowSec: number;
  passiveReplyMs: number;
  ctx: ChannelContext;
  health: HealthTracker;
  /** Renders the in-band answer (numbered choices, media links) into the passive reply's text. */
  renderPassive(event: InboundEvent, reply: OutboundMessage): Promise<string>;
}

export function wechatRoutes(o: WechatIngressOptions): WebhookRoute[] {
  return [
    { method: "GET", path: o.path, handler: (_req, res, { url }) => verifyEcho(o, res, url) },
    {
      method: "POST",
      path: o.path,
      bodyLimitBytes: MAX_XML_BYTES,
      handler: (req, res, { url, body }) => receive(o, req, res, url, body),
    },
  ];
}

function verifyEcho(o: WechatIngressOptions, res: ServerResponse, url: URL) {
  const q = url.searchParams;
  const timestamp = q.get("timestamp") ?? "";
  const nonce = q.get("nonce") ?? "";
  const echostr = q.get("echostr");
  if (echostr === null) return sendText(res, 400, "missing echostr");
  if (!verifyWechatSignature([o.token, timestamp, nonce], q.get("signature") ?? undefined)) {
    return sendText(res, 403, "Verification failed");
  }
  if (!withinWindow(Number(timestamp), o.windowSec)) return sendText(res, 403, "Stale Request");
  o.ctx.log.info({ channel: "wechat", account: o.account }, "WeChat server verification succeeded");
  sendText(res, 200, echostr);
}

async function receive(
  o: WechatIngressOptions,
  _req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: Buffer,
) {
  const q = url.searchParams;
  const timestamp = q.get("timestamp") ?? "";
  const nonce = q.get("nonce") ?? "";
  // Compatible mode also sends encrypt_type=aes, but its body carries the plaintext fields beside Encrypt: without
  // a configured key those are read like a plaintext message (same `signature` check, plaintext answer).
  const aesRequested = q.get("encrypt_type") === "aes";
  const safeMode = aesRequested && o.aesKey !== undefined;
  if (!safeMode && !verifyWechatSignature([o.token, timestamp, nonce], q.get("signature") ?? undefined)) {
    return sendText(res, 403, "Verification failed");
  }
  if (!withinWindow(Number(timestamp), o.windowSec)) return sendText(res, 403, "Stale Request");
  if (!safeMode && !(await firstUseOf(o, timestamp, nonce, body))) {
    o.ctx.log.warn(
      { channel: "wechat", account: o.account, timestamp },
      "refused a WeChat request that reused a signed timestamp and nonce with another body (a replay)",
    );
    return sendText(res, 403, "Replayed Request: this timestamp and nonce were already used");
  }

  let msg: Record<string, unknown>;
  try {
    msg = parseWechatXml(body);
    if (aesRequested && !safeMode && !field(msg, "MsgType")) {
      return sendText(res, 400, "encrypted message but no encodingAesKey is configured");
    }
    if (safeMode) {
      const encrypted = field(msg, "Encrypt");
      if (
        !verifyWechatSignature([o.token, timestamp, nonce, encrypted], q.get("msg_signature") ?? undefined)
      ) {
        return sendText(res, 403, "Verification failed");
      }
      msg = parseWechatXml(decryptMessage(o.aesKey!, o.appId ?? "", encrypted));
    }
  } catch (err) {
    if (err instanceof UnsafeXmlError || err instanceof MalformedXmlError) {
      return sendText(res, 400, (err as Error).message);
    }
    return sendText(res, 400, `cannot read the message: ${(err as Error).message}`);
  }

  const event = normalizeWechat(msg, o.account);
  if (event === "malformed") return sendText(res, 400, "message lacks FromUserName, ToUserName or MsgType");
  if (!event) return sendText(res, 200, "success"); // a type we do not handle: acknowledged, ignored
  o.health.inbound();

  const choice = event.text
    ? await resolveChoice(o.ctx.store, choiceKey("wechat", o.account, event.conversation.id), event.text)
    : undefined;
  if (choice) event.action = { id: event.id, value: choice };

  const started = Date.now();
  const result = await o.ctx.ingest(event);
  if (result !== "accepted") return sendText(res, 200, "success");
  const reply = await o.ctx.awaitReply(event.id, Math.max(0, o.passiveReplyMs - (Date.now() - started)));
  if (!reply) return sendText(res, 200, "success"); // delivered later through the customer-service API
  const content = await o.renderPassive(event, reply);
  // An answer that is only images has no text for the passive reply: the images follow through the outbox.
  if (!content) return sendText(res, 200, "success");
  const xml = buildWechatXml({
    ToUserName: event.sender.id,
    FromUserName: String(event.replyContext?.accountId ?? ""),
    CreateTime: Math.floor(Date.now() / 1000),
    MsgType: "text",
    Content: content,
  });
  o.health.outbound();
  if (!safeMode) return sendText(res, 200, xml, "application/xml; charset=utf-8");
  const ts = String(Math.floor(Date.now() / 1000));
  const replyNonce = String(Math.floor(Math.random() * 1e9));
  const encrypted = encryptMessage(o.aesKey!, o.appId ?? "", xml);
  sendText(
    res,
    200,
    buildWechatXml({
      Encrypt: encrypted,
      MsgSignature: wechatSignature([o.token, ts, replyNonce, encrypted]),
      TimeStamp: Number(ts),
      Nonce: replyNonce,
    }),
    "application/xml; charset=utf-8",
  );
}

/**
 * Records the (timestamp, nonce) pair with the body's hash, atomically across replicas. False when the pair was
 * already used with a different body. Kept until the timestamp has left the window on both sides.
 */
async function firstUseOf(o: WechatIngressOptions, timestamp: string, nonce: string, body: Buffer) {
  const key = createHash("sha256").update(`${o.account}\n${timestamp}\n${nonce}`).digest("hex");
  const digest = createHash("sha256").update(body).digest("hex");
  const ttlMs = (2 * o.windowSec + 60) * 1000;
  if (await o.ctx.store.kvSetIfAbsent(USED_NONCES, key, digest, ttlMs)) return true;
  const seen = await o.ctx.store.kvGet(USED_NONCES, key);
  return seen === undefined ? o.ctx.store.kvSetIfAbsent(USED_NONCES, key, digest, ttlMs) : seen === digest;
}

/** Voice Format → MIME type (WeChat records AMR or Speex). */
const VOICE_MIME: Record<string, string> = { amr: "audio/amr", speex: "audio/speex", mp3: "audio/mpeg" };

function coordinate(raw: string, max: number): number | undefined {
  if (!/^-?\d{1,3}(\.\d+)?$/.test(raw.trim())) return undefined;
  const n = Number(raw);
  return Math.abs(n) <= max ? n : undefined;
}

/** A native message → InboundEvent; undefined for types we ignore; "malformed" when required fields lack. */
export function normalizeWechat(
  msg: Record<string, unknown>,
  account: string,
): InboundEvent | undefined | "malformed" {
  const from = field(msg, "FromUserName");
  const to = field(msg, "ToUserName");
  const type = field(msg, "MsgType");
  if (!from || !to || !type) return "malformed";
  // An OpenID is letters, digits, "-" and "_"; a MsgId is a 64-bit number: anything else is not WeChat's, and
  // would make an event id that another event could share.
  if (!/^[\w-]{1,64}$/.test(from)) return "malformed";
  const createTime = field(msg, "CreateTime");
  const rawMsgId = field(msg, "MsgId");
  if (rawMsgId && !/^\d{1,20}$/.test(rawMsgId)) return "malformed";
  const msgId = rawMsgId;
  // CreateTime is in seconds; an event older than the dedup window is acknowledged and ignored by ingest.
  const sentSec = /^\d{1,12}$/.test(createTime) ? Number(createTime) : undefined;
  const base = {
    channel: "wechat",
    account,
    conversation: { id: from, kind: "dm" as const },
    sender: { id: from },
    addressed: true,
    receivedAt: Date.now(),
    ...(sentSec ? { sentAt: sentSec * 1000 } : {}),
    replyContext: { accountId: to },
    native: {
      MsgId: msgId || undefined,
      MsgType: type,
      FromUserName: from,
      ToUserName: to,
      CreateTime: createTime,
    },
  };
  const id = (platformId: string) => `wechat:${account}:${platformId}`;
  switch (type) {
    case "text":
      if (!msgId) return "malformed";
      return { ...base, id: id(msgId), text: field(msg, "Content"), attachments: [] };
    case "image":
      if (!msgId) return "malformed";
      return {
        ...base,
        id: id(msgId),
        text: "",
        attachments: [
          {
            kind: "image",
            url: field(msg, "PicUrl") || undefined,
            platformId: field(msg, "MediaId") || undefined,
          },
        ],
      };
    case "voice": {
      // With speech recognition turned on WeChat sends its own transcript: it is the message's text (as it has
      // always been here) and the attachment's transcript, so the voice is not transcribed a second time.
      if (!msgId) return "malformed";
      const recognized = field(msg, "Recognition");
      const mediaId = field(msg, "MediaId");
      if (!recognized && !mediaId) return undefined;
      const format = field(msg, "Format").toLowerCase();
      return {
        ...base,
        id: id(msgId),
        text: recognized,
        attachments: [
          {
            kind: "voice",
            ...(mediaId ? { platformId: mediaId } : {}),
            ...(VOICE_MIME[format] ? { mime: VOICE_MIME[format] } : {}),
            ...(recognized ? { transcript: recognized } : {}),
          },
        ],
      };
    }
    case "video":
    case "shortvideo": {
      const mediaId = field(msg, "MediaId");
      if (!msgId) return "malformed";
      if (!mediaId) return undefined;
      return { ...base, id: id(msgId), text: "", attachments: [{ kind: "video", platformId: mediaId }] };
    }
    case "location": {
      // Location_X is the latitude, Location_Y the longitude; Label is the address WeChat shows.
      const latitude = coordinate(field(msg, "Location_X"), 90);
      const longitude = coordinate(field(msg, "Location_Y"), 180);
      if (!msgId) return "malformed";
      if (latitude === undefined || longitude === undefined) return undefined;
      const label = field(msg, "Label");
      return {
        ...base,
        id: id(msgId),
        text: "",
        attachments: [
          { kind: "location", location: { latitude, longitude, ...(label ? { address: label } : {}) } },
        ],
      };
    }
    case "link": {
      // A shared article: what the user would read, as text.
      if (!msgId) return "malformed";
      const text = [field(msg, "Title"), field(msg, "Description"), field(msg, "Url")]
        .filter(Boolean)
        .join("\n");
      if (!text) return undefined;
      return { ...base, id: id(msgId), text, attachments: [] };
    }
    case "event": {
      // Custom-menu clicks carry the menu key (e.g. "/status"); other events (subscribe, scan …) are ignored.
      const ev = field(msg, "Event");
      if (ev.toUpperCase() !== "CLICK") return undefined;
      return {
        ...base,
        id: id(`${from}:${createTime}:${ev}`),
        text: field(msg, "EventKey"),
        attachments: [],
      };
    }
    default:
      return undefined;
  }
}
