// KakaoTalk through a Kakao i Open Builder skill: SkillResponse 2.0 in-band within the skill timeout, the skill
// callback for slower answers (only to allowlisted hosts), quick replies for buttons. Kakao has no way to
// message a user outside a request, so a reply without an in-band slot or a callback cannot be delivered.
// Pictures users send are fetched from their payload URLs, only on the allowlisted media hosts (the request is
// unsigned, so a URL in it could name anything); pictures in answers go out as simpleImage by published URL.
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { Pacer } from "../../runtime/pacer.ts";
import { type FetchPolicy, fetchPolicyFromConfig, UrlRefusedError } from "../../security/url-guard.ts";
import { accountPath } from "../sdk/accounts.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { AttachmentUnavailableError, downloadFromPlatform } from "../sdk/download.ts";
import { HealthTracker } from "../sdk/health.ts";
import { pacedCall } from "../shared/paced-call.ts";
import { choiceKey, rememberChoices } from "../shared/reply-choices.ts";
import { seedEnvSection } from "../shared/seed-env.ts";
import { idListSchema, listenSchema, pathSchema } from "../shared/settings.ts";
import { renderText } from "../shared/text-render.ts";
import {
  CHANNEL_API_VERSION,
  type ChannelAdapter,
  type ChannelContext,
  defineChannel,
  type FetchedMedia,
  type FetchLimits,
  type OutboundMessage,
  PermanentDeliveryError,
  type SendOptions,
  type SentMessage,
} from "../types.ts";
import {
  callbackAllowed,
  explicitHosts,
  type HostRule,
  hostRuleProblem,
  KAKAO_CALLBACK_HOSTS,
  parseHostRules,
} from "./callback-hosts.ts";
import { type CallbackGuard, postCallback } from "./client.ts";
import { kakaoDoctor } from "./doctor.ts";
import { type SkillOutput, type SkillResponse, skillResponse } from "./format.ts";
import { KAKAO_MEDIA_HOSTS } from "./images.ts";
import { kakaoRoutes } from "./ingress.ts";
import { laterParts, rememberPacked, wasPacked } from "./reply-parts.ts";

export const KAKAO_DEFAULT_PATH = "/kakao/webhook";
export const KAKAO_DEFAULT_PORT = 8096;
/** Kakao waits 5 s for a skill answer; answer a little earlier. */
const SKILL_TIMEOUT_MS = 4500;

/** A host allowlist (host, *.suffix or full origin), `fallback` when empty. */
const hostListSchema = (fallback: string[]) =>
  idListSchema
    .superRefine((entries, ctx) => {
      entries.forEach((entry) => {
        const problem = hostRuleProblem(entry);
        if (problem) ctx.addIssue({ code: "custom", message: problem, input: entry });
      });
    })
    .transform((v) => (v.length ? v : fallback));

const settingsSchema = z.looseObject({
  allowedUsers: idListSchema,
  path: pathSchema,
  listen: listenSchema,
  callbackHosts: hostListSchema(KAKAO_CALLBACK_HOSTS),
  /** Where pictures users send may be fetched from (Kakao's CDN); same notation as callbackHosts. */
  mediaHosts: hostListSchema(KAKAO_MEDIA_HOSTS),
  skillTimeoutMs: z.coerce.number().int().min(0).max(4500).default(SKILL_TIMEOUT_MS),
});
type KakaoSettings = z.output<typeof settingsSchema>;

export class KakaoAdapter implements ChannelAdapter {
  readonly channel = "kakao";
  readonly account: string;
  readonly capabilities = capabilities({
    edit: false,
    threads: false,
    media: true,
    downloads: true,
    buttons: true,
    // One answer per request (in-band or one callback): the adapter fits it into 3 bubbles itself.
    maxTextLength: 100_000,
    minEditIntervalMs: 0,
  });
  readonly listen: { host: string; port: number } | undefined;
  readonly #s: KakaoSettings;
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #pacer = new Pacer();
  readonly #allowed: Allowlist;
  readonly #guard: CallbackGuard;
  readonly #mediaRules: HostRule[];
  readonly #policy: FetchPolicy;

  constructor(account: string, settings: KakaoSettings, ctx: ChannelContext) {
    this.account = account;
    this.#s = settings;
    this.#ctx = ctx;
    this.listen = settings.listen;
    this.#allowed = new Allowlist(settings.allowedUsers);
    const rules = parseHostRules(settings.callbackHosts);
    const policy = fetchPolicyFromConfig(ctx.config);
    this.#policy = policy;
    this.#mediaRules = parseHostRules(settings.mediaHosts);
    this.#guard = {
      rules,
      policy: { ...policy, allowHosts: [...(policy.allowHosts ?? []), ...explicitHosts(rules)] },
    };
    this.#health.status("running");
  }

  routes() {
    return kakaoRoutes({
      account: this.account,
      path: accountPath(KAKAO_DEFAULT_PATH, this.account, this.#s.path),
      skillTimeoutMs: this.#s.skillTimeoutMs,
      callbackRules: this.#guard.rules,
      ctx: this.#ctx,
      health: this.#health,
      render: (event, reply) =>
        this.#render(
          { channel: this.channel, account: this.account, conversationId: event.conversation.id },
          [reply],
        ),
    });
  }

  /** One SkillResponse for all parts of a reply: images first, each part's text, every part's buttons. */
  async #render(to: DeliveryAddress, messages: OutboundMessage[]): Promise<SkillResponse> {
    const images: SkillOutput[] = [];
    const texts: string[] = [];
    for (const message of messages) {
      const rest: OutboundMessage["media"] = [];
      for (const item of message.media ?? []) {
        const url = await this.#ctx.publishMedia?.(item, to).catch(() => undefined);
        if (url) images.push({ simpleImage: { imageUrl: url, altText: item.caption ?? item.filename } });
        else rest.push(item);
      }
      texts.push(await renderText(this.#ctx, this.#ctx.store, to, { ...message, media: rest, buttons: [] }));
    }
    const buttons = messages.flatMap((m) => m.buttons ?? []);
    if (buttons.length) {
      await rememberChoices(this.#ctx.store, choiceKey(to.channel, to.account, to.conversationId), buttons);
    }
    return skillResponse(texts, buttons, images);
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    const callbackUrl = to.replyContext?.callbackUrl;
    const receivedAt = Number(to.replyContext?.receivedAt ?? 0);
    if (typeof callbackUrl !== "string") {
      throw new PermanentDeliveryError(
        "Kakao: the answer missed the skill timeout and the request had no usable callback URL (turn on the block's Callback API in Open Builder, and check OPENCLAW_CONNECTOR_KAKAO_CALLBACK_HOSTS)",
      );
    }
    const store = this.#ctx.store;
    if (await wasPacked(store, callbackUrl, options.idempotencyKey)) return {};
    const later = await laterParts(store, options.idempotencyKey, callbackUrl);
    const buckets = [{ key: "kakao", ratePerSec: 20, burst: 20 }];
    return this.#health.track(() =>
      pacedCall(this.#pacer, buckets, "kakao", async () => {
        const response = await this.#render(to, [message, ...later.messages]);
        await postCallback(store, callbackUrl, receivedAt, response, this.#guard);
        await rememberPacked(store, callbackUrl, later.keys);
        return {};
      }),
    );
  }

  /**
   * A picture from the payload. Kakao's image URLs need no credentials; as the request is unsigned, the URL is
   * fetched only on a mediaHosts host (a full origin there may also be private, like a callback host).
   */
  async fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    if (!attachment.url) throw new AttachmentUnavailableError("the KakaoTalk picture has no URL");
    const url = overHttps(this.#mediaRules, attachment.url);
    if (!callbackAllowed(this.#mediaRules, url)) {
      throw new UrlRefusedError(
        url,
        "its host is not one of Kakao's media hosts",
        "An operator can allow it with channels.kakao.mediaHosts (OPENCLAW_CONNECTOR_KAKAO_MEDIA_HOSTS).",
      );
    }
    return downloadFromPlatform({
      url,
      ownHosts: explicitHosts(this.#mediaRules),
      policy: this.#policy,
      limits,
      fromPayload: true,
      what: "the KakaoTalk picture",
    });
  }

  /** Soft allowlist: anyone may write; only listed user ids (botUserKey) are trusted. */
  isTrusted(event: InboundEvent): boolean {
    return this.#allowed.hasSender(event.sender.id);
  }

  health() {
    return this.#health.snapshot();
  }
}

/** An http:// picture URL on a host allowed for https only is fetched over https (Kakao's CDN serves both). */
function overHttps(rules: HostRule[], url: string): string {
  if (!url.startsWith("http://") || callbackAllowed(rules, url)) return url;
  const secure = `https://${url.slice("http://".length)}`;
  return callbackAllowed(rules, secure) ? secure : url;
}

/** The connector seed's variables: the adapter exists only with OPENCLAW_CONNECTOR_KAKAO_ENABLED=true. */
export function kakaoFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "KAKAO", {
    requiredAny: ["ENABLED"],
    enabledBy: "ENABLED",
    strings: {},
    lists: { ALLOWED_USERS: "allowedUsers", CALLBACK_HOSTS: "callbackHosts", MEDIA_HOSTS: "mediaHosts" },
    defaultPort: KAKAO_DEFAULT_PORT,
  });
}

export const kakaoModule = defineChannel({
  name: "kakao",
  apiVersion: CHANNEL_API_VERSION,
  settings: settingsSchema,
  multiAccount: true,
  fromEnv: kakaoFromEnv,
  create: (settings, ctx, account) => new KakaoAdapter(account, settings, ctx),
  doctor: (settings, ctx) =>
    kakaoDoctor(settings, ctx, accountPath(KAKAO_DEFAULT_PATH, ctx.account, settings.path)),
});
