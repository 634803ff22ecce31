// Twilio inbound SMS/MMS webhook: form-encoded POST signed with X-Twilio-Signature over the public URL.
// Answered with an empty TwiML <Response/> once the message is committed; replies go out through the REST API.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Attachment, InboundEvent } from "../../core/event.ts";
import { sendText } from "../../http/respond.ts";
import type { HealthTracker } from "../sdk/health.ts";
import { choiceKey, resolveChoice } from "../shared/reply-choices.ts";
import type { ChannelContext, WebhookRoute } from "../types.ts";
import { verifyTwilioSignature } from "./signature.ts";

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const MAX_BODY = 64 * 1024;
/** Twilio sends at most 10 media items per message. */
const MAX_MEDIA = 10;

export interface SmsIngressOptions {
  account: string;
  path: string;
  accountSid: string;
  authToken: string;
  publicUrl: string;
  ctx: ChannelContext;
  health: HealthTracker;
}

export function smsRoutes(o: SmsIngressOptions): WebhookRoute[] {
  return [
    {
      method: "POST",
      path: o.path,
      bodyLimitBytes: MAX_BODY,
      handler: (req, res, { body }) => receive(o, req, res, body),
    },
  ];
}

const twiml = (res: ServerResponse) => sendText(res, 200, EMPTY_TWIML, "text/xml; charset=utf-8");

async function receive(o: SmsIngressOptions, req: IncomingMessage, res: ServerResponse, body: Buffer) {
  if (!String(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
    return sendText(res, 400, "expected application/x-www-form-urlencoded (a Twilio webhook)");
  }
  const signature = req.headers["x-twilio-signature"];
  if (typeof signature !== "string" || !signature) return sendText(res, 401, "missing X-Twilio-Signature");
  const params = new URLSearchParams(body.toString("utf8"));
  if (!verifyTwilioSignature(o.authToken, o.publicUrl, params, signature)) {
    // The usual cause is a publicUrl that differs from the URL configured in Twilio (scheme, host, port, path).
    return sendText(res, 403, "invalid X-Twilio-Signature");
  }
  if (params.get("AccountSid") !== o.accountSid)
    return sendText(res, 403, "message is for another Twilio account");

  // Status callbacks (sent, delivered …) share the URL when configured so; they are acknowledged and ignored.
  const status = params.get("SmsStatus") ?? params.get("MessageStatus");
  if (status && status !== "received") return twiml(res);
  const event = normalizeSms(params, o.account);
  if (!event) return sendText(res, 400, "message lacks MessageSid or From");
  if (!event.text && event.attachments.length === 0) return twiml(res);
  o.health.inbound();

  const choice = await resolveChoice(
    o.ctx.store,
    choiceKey("sms", o.account, event.conversation.id),
    event.text,
  );
  if (choice) event.action = { id: event.id, value: choice };
  await o.ctx.ingest(event); // a duplicate (Twilio retry) is acknowledged the same way
  twiml(res);
}

export function normalizeSms(params: URLSearchParams, account: string): InboundEvent | undefined {
  const sid = params.get("MessageSid") ?? params.get("SmsMessageSid");
  const from = params.get("From");
  if (!sid || !from) return undefined;
  const attachments: Attachment[] = [];
  const count = Math.min(MAX_MEDIA, Number(params.get("NumMedia") ?? 0) || 0);
  for (let i = 0; i < count; i++) {
    const url = params.get(`MediaUrl${i}`);
    if (!url) continue;
    const mime = params.get(`MediaContentType${i}`) ?? undefined;
    attachments.push({ kind: kindOf(mime), url, mime });
  }
  return {
    id: `sms:${account}:${sid}`,
    channel: "sms",
    account,
    conversation: { id: from, kind: "dm" },
    sender: { id: from },
    text: params.get("Body") ?? "",
    attachments,
    addressed: true,
    receivedAt: Date.now(),
    replyContext: { to: params.get("To") ?? undefined },
    native: {
      MessageSid: sid,
      AccountSid: params.get("AccountSid") ?? undefined,
      From: from,
      To: params.get("To") ?? undefined,
    },
  };
}

function kindOf(mime: string | undefined): Attachment["kind"] {
  if (mime?.startsWith("image/")) return "image";
  if (mime?.startsWith("audio/")) return "audio";
  if (mime?.startsWith("video/")) return "video";
  return "file";
}
