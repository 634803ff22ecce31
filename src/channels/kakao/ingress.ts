// Kakao i Open Builder skill endpoint. Requests are unsigned, so the body hash is the replay guard: an
// identical body within the replay window is the same event. The answer goes in-band (SkillResponse) when it
// is ready within the skill timeout, otherwise through the skill callback when the request carries an
// allowlisted callback URL.
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { InboundEvent } from "../../core/event.ts";
import { sendError, sendJson } from "../../http/respond.ts";
import type { HealthTracker } from "../health.ts";
import { choiceKey, resolveChoice } from "../shared/reply-choices.ts";
import type { ChannelContext, OutboundMessage, WebhookRoute } from "../types.ts";
import { callbackAllowed, type parseHostRules } from "./callback-hosts.ts";
import { callbackAck, type SkillResponse, skillResponse } from "./format.ts";

const REPLAY_NAMESPACE = "kakao-replay";
/** Identical bodies within this window are one event (Kakao requests carry no message id). */
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
  const utterance = ur.utterance.trim();
  if (!utterance) {
    // Photos, stickers and other non-text turns arrive without an utterance: acknowledged, not handled.
    return sendJson(res, 200, skillResponse("I can only read text messages."));
  }
  o.health.inbound();

  const receivedAt = Date.now();
  const hash = createHash("sha256").update(body).digest("hex");
  const candidate = `kakao:${o.account}:${hash}:${receivedAt}`;
  const fresh = await o.ctx.store.kvSetIfAbsent(
    REPLAY_NAMESPACE,
    `${o.account}:${hash}`,
    candidate,
    REPLAY_WINDOW_MS,
  );
  const id = fresh
    ? candidate
    : ((await o.ctx.store.kvGet(REPLAY_NAMESPACE, `${o.account}:${hash}`)) ?? candidate);

  let callbackUrl: string | undefined;
  if (typeof ur.callbackUrl === "string" && ur.callbackUrl) {
    if (callbackAllowed(o.callbackRules, ur.callbackUrl)) callbackUrl = ur.callbackUrl;
    else {
      o.ctx.log.warn(
        { channel: "kakao", host: safeHost(ur.callbackUrl) },
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
    attachments: [],
    addressed: true,
    receivedAt,
    replyContext: callbackUrl ? { callbackUrl, receivedAt } : { receivedAt },
    native: payload,
  };
  const choice = await resolveChoice(o.ctx.store, choiceKey("kakao", o.account, userId), utterance);
  if (choice) event.action = { id, value: choice };

  const result = await o.ctx.ingest(event);
  if (result === "duplicate") {
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

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(not a URL)";
  }
}
