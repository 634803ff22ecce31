// Slack (Events API): signed webhooks in, Web API out. Replies go to the thread the message started, buttons are
// Block Kit, images use the external upload flow. Setup: docs/channels/slack.md.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { readJsonObject } from "../../http/json-body.ts";
import { sendJson } from "../../http/respond.ts";
import { fetchPolicyFromConfig } from "../../security/url-guard.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { HealthTracker } from "../sdk/health.ts";
import { answer, jsonWebhookRoute, refuse, type WebhookOutcome } from "../sdk/webhook.ts";
import { sendPartsOnce } from "../shared/sent-parts.ts";
import {
  CHANNEL_API_VERSION,
  type ChannelAdapter,
  type ChannelContext,
  defineChannel,
  type FetchedMedia,
  type FetchLimits,
  type OutboundMessage,
  type SendOptions,
  type SentMessage,
  type WebhookRoute,
} from "../types.ts";
import { SlackClient } from "./client.ts";
import { type SlackSettings, slackFromEnv, slackSettingsSchema } from "./config.ts";
import { slackDoctor } from "./doctor.ts";
import { fetchSlackFile, SlackFilesScopeError } from "./files.ts";
import { encodeSlackText, slackBlocks, slackText } from "./format.ts";
import {
  normalizeSlackAction,
  normalizeSlackEvent,
  type SlackNormalized,
  verifySlackRequest,
} from "./ingress.ts";

/** 200 with an empty body: Slack only needs the status. */
function ack(res: ServerResponse): void {
  res.writeHead(200).end();
}

export class SlackAdapter implements ChannelAdapter {
  readonly channel = "slack";
  readonly account = "default";
  readonly capabilities = capabilities({
    edit: true,
    answersPresses: true,
    threads: true,
    media: true,
    downloads: true,
    buttons: true,
    // Slack truncates at 40k but recommends keeping a message under 4,000 characters.
    maxTextLength: 4000,
    // chat.update is rate limited (Tier 3); one edit every 1.5 s keeps a streamed reply well inside it.
    minEditIntervalMs: 1500,
  });
  readonly listen?: { host: string; port: number };
  readonly client: SlackClient;
  readonly #s: SlackSettings;
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #allowed: Allowlist;
  /** Payloads that came as an interactivity form (button presses), told apart from Events API bodies. */
  readonly #interactions = new WeakSet<Record<string, unknown>>();
  #botUserId: string | undefined;

  constructor(settings: SlackSettings, ctx: ChannelContext) {
    this.#s = settings;
    this.#ctx = ctx;
    this.listen = settings.listen;
    this.client = new SlackClient(settings.apiBase, settings.botToken);
    this.#botUserId = settings.botUserId;
    this.#allowed = new Allowlist(settings.allowedUsers, settings.allowedChannels);
  }

  routes(): WebhookRoute[] {
    const route = (path: string) =>
      jsonWebhookRoute(
        {
          path,
          bodyLimitBytes: this.#s.bodyLimitBytes,
          verify: (req, body) => verifySlackRequest(this.#s.signingSecret, req.headers, body),
          parse: (req, body) => this.#parse(req, body),
          normalize: (payload) => this.#normalize(payload),
          ack: (res) => ack(res),
        },
        this.#ctx,
        this.#health,
      );
    const routes = [route(this.#s.path)];
    if (this.#s.interactivityPath !== this.#s.path) routes.push(route(this.#s.interactivityPath));
    return routes;
  }

  async start() {
    this.#health.status("running");
    if (this.#botUserId) return;
    // The bot's user id tells mentions of the bot apart; events carry it too, so a failure here is not fatal.
    try {
      this.#botUserId = (await this.client.authTest()).userId;
    } catch (err) {
      this.#health.error((err as Error).message);
      this.#ctx.log.warn({ channel: "slack", err: (err as Error).message }, "Slack auth.test failed");
    }
  }

  async stop() {
    this.#health.status("stopped");
  }

  /** Button presses come as a form (payload=<JSON>) on either path; events as JSON. */
  #parse(req: IncomingMessage, body: Buffer): Record<string, unknown> | WebhookOutcome {
    const type = String(req.headers["content-type"] ?? "");
    if (!type.startsWith("application/x-www-form-urlencoded")) {
      return readJsonObject(body) ?? refuse("body is not a JSON object");
    }
    // Slash commands (no payload) are not used by clawgate: acknowledged.
    const raw = new URLSearchParams(body.toString("utf8")).get("payload");
    if (raw === null) return answer(ack);
    const payload = readJsonObject(Buffer.from(raw));
    if (!payload) return refuse("payload is not a JSON object");
    this.#interactions.add(payload);
    return payload;
  }

  #normalize(payload: Record<string, unknown>): InboundEvent[] | WebhookOutcome {
    const opts = {
      account: this.account,
      botUserId: this.#botUserId,
      requireMention: this.#s.requireMention,
      replyInThread: this.#s.replyInThread,
    };
    let r: SlackNormalized;
    if (this.#interactions.has(payload)) r = normalizeSlackAction(payload, opts);
    else if (payload.type === "url_verification") {
      return answer((res) => sendJson(res, 200, { challenge: String(payload.challenge ?? "") }));
    } else if (payload.type !== "event_callback") return [];
    else r = normalizeSlackEvent(payload, opts);
    if (r.kind === "unreadable") {
      // Signed by Slack, so not an attack, and resending it would not make it readable: acknowledged and logged.
      const message = `slack: could not read a signed ${String(payload.type)} payload, skipped: ${r.reason}`;
      this.#health.error(message);
      this.#ctx.log.error(
        { channel: "slack", eventId: payload.event_id, type: payload.type, reason: r.reason },
        message,
      );
      return [];
    }
    // Durable before Slack hears 200; a retry (X-Slack-Retry-Num) of the same message is a duplicate.
    return r.kind === "ignored" ? [] : [r.event];
  }

  async send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    return this.#health.track(async () => {
      let ts: string | undefined;
      const buttons = message.buttons ?? [];
      const steps: (() => Promise<void>)[] = [];
      if (message.text || buttons.length) {
        steps.push(async () => {
          const text = slackText(message.text);
          const r = await this.client.call<{ ok: boolean; ts: string }>(
            "chat.postMessage",
            {
              channel: to.conversationId,
              text,
              ...(to.thread ? { thread_ts: to.thread } : {}),
              ...(buttons.length ? { blocks: slackBlocks(text, buttons) } : {}),
              unfurl_links: false,
              unfurl_media: false,
            },
            to.conversationId,
          );
          ts = r.ts;
        });
      }
      for (const m of message.media ?? []) steps.push(() => this.#upload(to, [m]));
      // The text and each file are separate calls: when an upload fails, the outbox retries the whole item, and
      // the retry resumes after what went out instead of posting the text (and earlier files) again.
      await sendPartsOnce(this.#ctx.store, options.idempotencyKey, steps, (step) => step());
      return { messageId: ts };
    });
  }

  async edit(to: DeliveryAddress, messageId: string, message: OutboundMessage): Promise<void> {
    const text = slackText(message.text);
    const buttons = message.buttons ?? [];
    await this.client.call(
      "chat.update",
      {
        channel: to.conversationId,
        ts: messageId,
        text,
        blocks: buttons.length ? slackBlocks(text, buttons) : [],
      },
      to.conversationId,
    );
    // Media cannot ride on an edit: upload it into the same thread.
    await this.#upload(to, message.media);
    this.#health.outbound();
  }

  /** Files go to the conversation (and thread) of the reply, one upload each, in order. */
  async #upload(to: DeliveryAddress, media: OutboundMessage["media"]): Promise<void> {
    for (const m of media ?? []) {
      await this.client.uploadFile({
        channel: to.conversationId,
        threadTs: to.thread,
        bytes: Buffer.from(m.dataBase64, "base64"),
        filename: m.filename,
        comment: m.caption,
      });
    }
  }

  /** A shared file's bytes, from files.slack.com with the bot token (needs the files:read scope). */
  fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    const source = {
      client: this.client,
      token: this.#s.botToken,
      apiBase: this.#s.apiBase,
      policy: fetchPolicyFromConfig(this.#ctx.config),
    };
    return fetchSlackFile(source, attachment, limits).catch((err: unknown) => {
      // The user only hears the file could not be downloaded: the operator's fix goes to the log and status.
      if (err instanceof SlackFilesScopeError) {
        this.#health.error(err.message);
        this.#ctx.log.warn({ channel: "slack" }, err.message);
      }
      throw err;
    });
  }

  /** A button's toast is shown only to the person who pressed it. */
  async answerAction(event: InboundEvent, text?: string): Promise<void> {
    if (!text) return;
    await this.client.call(
      "chat.postEphemeral",
      {
        channel: event.conversation.id,
        user: event.sender.id,
        text: encodeSlackText(text),
        ...(event.conversation.thread ? { thread_ts: event.conversation.thread } : {}),
      },
      event.conversation.id,
    );
  }

  isTrusted(event: InboundEvent): boolean {
    return this.#allowed.has(event);
  }

  health() {
    return this.#health.snapshot();
  }
}

export const slackModule = defineChannel({
  name: "slack",
  apiVersion: CHANNEL_API_VERSION,
  settings: slackSettingsSchema,
  multiAccount: false,
  fromEnv: slackFromEnv,
  create: (settings, ctx) => new SlackAdapter(settings, ctx),
  doctor: (settings, ctx) => slackDoctor(settings, ctx),
});
