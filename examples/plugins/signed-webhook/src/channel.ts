// The signed-webhook channel: a service POSTs {id, from, conversation, text} signed with the shared secret;
// replies are POSTed to `outboundUrl`, signed with `outboundSecret`.
//
// Built from the SDK the gateway hands the plugin (the factory form, docs/plugins.md): clawgate is imported for
// types only, so the gateway's own error classes and zod are the ones used, however clawgate was installed.
import type {
  ChannelAdapter,
  ChannelContext,
  ChannelModule,
  DeliveryAddress,
  Env,
  InboundEvent,
  OutboundMessage,
  PluginSdk,
  SendOptions,
  SentMessage,
  WebhookRoute,
} from "../../../../src/plugins/api.ts";
import { SIGNATURE_HEADER, signedHeaders, TIMESTAMP_HEADER, verify } from "./signature.ts";

export const CHANNEL = "signed-webhook";

export function signedWebhookChannel(sdk: PluginSdk): ChannelModule {
  const { z, HealthTracker, accountPath, sendJson, RateLimitedError, PermanentDeliveryError } = sdk;

  /** One account's settings; the gateway's own keys (enabled, agentUrl, model, dmPolicy, accounts) are not here. */
  const settingsSchema = z.object({
    /** Shared secret the service signs inbound webhooks with. */
    secret: z.string().min(16, "at least 16 characters"),
    /** Where replies are POSTed. */
    outboundUrl: z.url(),
    /** Secret the gateway signs replies with (its own, so a leaked inbound secret cannot forge replies). */
    outboundSecret: z.string().min(16, "at least 16 characters"),
    /** Webhook path; default /hooks/signed-webhook (other accounts: /hooks/signed-webhook/<account>). */
    path: sdk.pathSchema,
    /** A listener of its own besides the gateway's (the seed's _BIND/_PORT). */
    listen: sdk.listenSchema,
    /** How far a request's timestamp may be from now, either way. */
    replayWindowSec: z.number().int().min(30).max(3600).default(300),
    /** Senders the gateway trusts (runs commands for, answers without pairing). */
    allowFrom: sdk.idArraySchema,
    /** Longest reply one POST carries; longer replies are split by the gateway. */
    maxTextLength: z.number().int().min(100).max(100_000).default(4000),
  });
  type Settings = ReturnType<typeof settingsSchema.parse>;

  const inboundSchema = z.object({
    id: z.string().min(1).max(200),
    from: z.string().min(1).max(200),
    conversation: z.string().min(1).max(200),
    text: z.string().max(100_000),
  });

  /**
   * The environment, through the shared seed-env mapper: OPENCLAW_CONNECTOR_SIGNED_WEBHOOK_SECRET, _OUTBOUND_URL,
   * _OUTBOUND_SECRET, _ALLOW_FROM (comma-separated), _PATH, and _BIND/_PORT for a listener of its own.
   */
  const fromEnv = (env: Env) =>
    sdk.seedEnvSection(env, "SIGNED_WEBHOOK", {
      requiredAny: ["SECRET", "OUTBOUND_URL"],
      strings: { SECRET: "secret", OUTBOUND_URL: "outboundUrl", OUTBOUND_SECRET: "outboundSecret" },
      lists: { ALLOW_FROM: "allowFrom" },
      defaultPort: 18120,
    });

  class SignedWebhookAdapter implements ChannelAdapter {
    readonly channel = CHANNEL;
    readonly account: string;
    readonly capabilities;
    readonly #settings: Settings;
    readonly #ctx: ChannelContext;
    readonly #health = new HealthTracker();
    readonly #allow: Set<string>;
    readonly #path: string;
    readonly listen?: { host: string; port: number };

    constructor(account: string, settings: Settings, ctx: ChannelContext) {
      this.account = account;
      this.#settings = settings;
      this.#ctx = ctx;
      this.#allow = new Set(settings.allowFrom);
      this.listen = settings.listen;
      this.#path = accountPath(`/hooks/${CHANNEL}`, account, settings.path);
      this.capabilities = {
        edit: false,
        livePreview: false,
        answersPresses: false,
        threads: false,
        media: false,
        buttons: false,
        maxTextLength: settings.maxTextLength,
        minEditIntervalMs: 0,
      };
    }

    routes(): WebhookRoute[] {
      return [{ method: "POST", path: this.#path, bodyLimitBytes: 256 * 1024, handler: this.#receive }];
    }

    #receive: WebhookRoute["handler"] = async (req, res, { body }) => {
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const verdict = verify(
        this.#settings.secret,
        { timestamp: header(TIMESTAMP_HEADER), signature: header(SIGNATURE_HEADER) },
        body,
        this.#settings.replayWindowSec,
      );
      if (!verdict.ok) {
        this.#ctx.log.warn(
          { channel: CHANNEL, account: this.account, reason: verdict.reason },
          "webhook refused",
        );
        return sendJson(res, 401, { ok: false, error: verdict.reason });
      }
      let json: unknown;
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch {
        return sendJson(res, 400, { ok: false, error: "body is not JSON" });
      }
      const parsed = inboundSchema.safeParse(json);
      if (!parsed.success) {
        return sendJson(res, 400, { ok: false, error: "expected {id, from, conversation, text} strings" });
      }
      this.#health.inbound();
      const result = await this.#ctx.ingest(this.#normalize(parsed.data));
      sendJson(res, 200, { ok: true, result });
    };

    #normalize(m: ReturnType<typeof inboundSchema.parse>): InboundEvent {
      const dm = m.conversation === m.from;
      return {
        id: `${CHANNEL}:${this.account}:${m.id}`,
        channel: CHANNEL,
        account: this.account,
        conversation: { id: m.conversation, kind: dm ? "dm" : "group" },
        sender: { id: m.from },
        text: m.text,
        attachments: [],
        addressed: true,
        receivedAt: Date.now(),
        native: m,
      };
    }

    async start() {
      this.#health.status("running");
    }

    async stop() {
      this.#health.status("stopped");
    }

    send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
      return this.#health.track(() => this.#post(to, message, options));
    }

    async #post(to: DeliveryAddress, message: OutboundMessage, options: SendOptions): Promise<SentMessage> {
      const body = JSON.stringify({
        conversation: to.conversationId,
        text: message.text,
        kind: message.kind ?? "reply",
        inReplyTo: options.eventId?.split(":").slice(2).join(":"),
        idempotencyKey: options.idempotencyKey,
      });
      const res = await fetch(this.#settings.outboundUrl, {
        method: "POST",
        headers: signedHeaders(this.#settings.outboundSecret, body),
        body,
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      if (res.status === 429) {
        const after = Number(res.headers.get("retry-after"));
        throw new RateLimitedError(Number.isFinite(after) && after > 0 ? after * 1000 : 1000);
      }
      if (res.status >= 400 && res.status < 500) {
        throw new PermanentDeliveryError(`outbound URL answered ${res.status}: ${text.slice(0, 200)}`);
      }
      if (!res.ok) throw new Error(`outbound URL answered ${res.status}`);
      const id = (() => {
        try {
          return (JSON.parse(text) as { id?: unknown }).id;
        } catch {
          return undefined;
        }
      })();
      return typeof id === "string" ? { messageId: id } : {};
    }

    isTrusted(event: InboundEvent): boolean {
      return this.#allow.has(event.sender.id);
    }

    health() {
      return this.#health.snapshot();
    }
  }

  // The gateway validates each account's settings with `settings` and builds one adapter per enabled account.
  const module: ChannelModule<typeof settingsSchema> = {
    name: CHANNEL,
    apiVersion: 1,
    settings: settingsSchema,
    multiAccount: true,
    fromEnv,
    create: (settings, ctx, account) => new SignedWebhookAdapter(account, settings, ctx),
    // `clawgate doctor`: what can be told without sending a reply (a POST would deliver one).
    doctor: async (settings, ctx) => {
      const url = new URL(settings.outboundUrl);
      const id = `${CHANNEL}.${ctx.account}.outbound-url`;
      const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
      return [
        url.protocol === "https:" || loopback
          ? sdk.doctor.ok(id, "Reply URL", settings.outboundUrl)
          : sdk.doctor.warn(
              id,
              "Reply URL",
              `${settings.outboundUrl} is plain http: replies and their signatures cross the network unencrypted`,
              "serve the reply endpoint over https and update outboundUrl",
            ),
      ];
    },
  };
  return module;
}
