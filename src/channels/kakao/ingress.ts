// Kakao i Open Builder skill endpoint. Requests are unsigned and carry no message id, so the replay guard is
// the one-time callback URL when there is one, otherwise the body hash within a window (see eventId). The
// answer goes in-band (SkillResponse) when it is ready within the skill timeout, otherwise through the skill
// callback when the request carries an allowlisted callback URL.
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { InboundEvent } from "../../core/event.ts";
import { sendError, sendJson } from "../../http/respond.ts";
import type { HealthTracker } from "../sdk/health.ts";
import { choiceKey, resolveChoice } from "../shared/reply-choices.ts";
import type { ChannelContext, OutboundMessage, WebhookRoute } from "../types.ts";
import { callbackAllowed, type parseHostRules } from "./callback-hosts.ts";
import { callbackAck, type SkillResponse, skillResponse } from "./format.ts";
import { payloadImageUrls } from "./images.ts";

const REPLAY_NAMESPACE = "kakao-replay";
/** Without a callback URL, identical bodies within this window are one event (there is no message id). */
export const REPLAY_WINDOW_MS = 60_000;
const MAX_BODY = 64 * 1024;

export interface KakaoIngressOptions {
  account: string;
  path: string;
  skillTimeoutMs: number;
  callbackRules: ReturnType<typeof parseHostRules>;
  ctx: ChannelContext;
  health: HealthTracker;
  render(event: InboundEvent, reply: OutboundMessage): Promise<SkillResponse>;
}

export function kakaoRoutes(o: KakaoIngressOptions): WebhookRoute[] {
  return [
    {
      method: "POST",
      path: o.path,
      bodyLimitBytes: MAX_BODY,
      handler: (_req, res, { body }) => receive(o, res, body),
    },
  ];
}

interface SkillRequest {
  userRequest?: {
    utterance?: unknown;
    callbackUrl?: unknown;
    user?: { id?: unknown; type?: unknown };
  };
}

async function receive(o: KakaoIngressOptions, res: ServerResponse, body: Buffer) {
  let payload: SkillRequest;
  try {
    payload = JSON.parse(body.toString("utf8"));
  } catch {
    return sendError(res, 400, "body is not JSON: expected a Kakao SkillPayload");
  }
  const ur = payload?.userRequest;
  if (!ur || typeof ur !== "object") return sendError(res, 400, "SkillPayload lacks userRequest");
  const userId = ur.user?.id;
  if (typeof userId !== "string" || !userId)
    return sendError(res, 400, "SkillPayload lacks userRequest.user.id");
  if (typeof ur.utterance !== "string")
    return sendError(res, 400, "SkillPayload lacks userRequest.utterance");
  const images = payloadImageUrls(payload);
  // A photo's turn may carry the photo's own URL as its utterance: that is no text the user wrote.
  const said = ur.utterance.trim();
  const utterance = images.includes(said) ? "" : said;
  if (!utterance && !images.length) {
    // Stickers and other non-text turns without a picture arrive without an utterance: acknowledged, not handled.
    return sendJson(res, 200, skillResponse("I can only read text messages and pictures."));
  }
  o.health.inbound();

  const receivedAt = Date.now();
  const rawCallback = typeof ur.callbackUrl === "string" && ur.callbackUrl ? ur.callbackUrl : undefined;
  const id = await eventId(o, body, rawCallback, receivedAt);

  let callbackUrl: string | undefined;
  if (rawCallback) {
    if (callbackAllowed(o.callbackRules, rawCallback)) callbackUrl = rawCallback;
    else {
      o.ctx.log.warn(
        { channel: "kakao", host: safeHost(rawCallback) },
        "Kakao callback URL host is not on OPENCLAW_CONNECTOR_KAKAO_CALLBACK_HOSTS; it will not be called",
      );
    }
  }
  const event: InboundEvent = {
    id,
    channel: "kakao",
    account: o.account,
    conversation: { id: userId, kind: "dm" },
    sender: { id: userId },
    text: utterance,
    attachments: images.map((url) => ({ kind: "image" as const, url })),
    addressed: true,
    receivedAt,
    replyContext: callbackUrl ? { callbackUrl, receivedAt } : { receivedAt },
    native: { userId, bot: (payload as { bot?: { id?: unknown } }).bot?.id },
  };
  const choice = utterance
    ? await resolveChoice(o.ctx.store, choiceKey("kakao", o.account, userId), utterance)
    : undefined;
  if (choice) event.action = { id, value: choice };

  const result = await o.ctx.ingest(event);
  if (result !== "accepted") {
    return sendJson(res, 200, skillResponse("Already received; the answer is on its way."));
  }
  const reply = await o.ctx.awaitReply(id, Math.max(0, o.skillTimeoutMs - (Date.now() - receivedAt)));
  if (reply) {
    o.health.outbound();
    return sendJson(res, 200, await o.render(event, reply));
  }
  if (callbackUrl) return sendJson(res, 200, callbackAck);
  sendJson(res, 200, skillResponse("Still working on it. Ask again in a moment."));
}

/**
 * The event id. A SkillPayload has no message id and no timestamp: intent/block, bot and action ids name the
 * chatbot's configuration, and user.id the user, so the same text twice gives the same body. The one field
 * that is new for every utterance is the one-time callbackUrl Kakao issues when the block has Callback on:
 * with it, the URL is the id, so a replay of that request is a duplicate however late it comes, and a user
 * repeating themselves is not. Without it, identical bodies within REPLAY_WINDOW_MS are one event.
 */
async function eventId(
  o: KakaoIngressOptions,
  body: Buffer,
  callbackUrl: string | undefined,
  receivedAt: number,
): Promise<string> {
  const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
  if (callbackUrl) return `kakao:${o.account}:cb:${sha256(callbackUrl)}`;
  const hash = sha256(body);
  const candidate = `kakao:${o.account}:${hash}:${receivedAt}`;
  const key = `${o.account}:${hash}`;
  if (await o.ctx.store.kvSetIfAbsent(REPLAY_NAMESPACE, key, candidate, REPLAY_WINDOW_MS)) return candidate;
  return (await o.ctx.store.kvGet(REPLAY_NAMESPACE, key)) ?? candidate;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(not a URL)";
  }
}
