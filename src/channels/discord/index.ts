// The Discord channel: one adapter per bot. Receives over the gateway socket (one shard, held by a store lease so
// replicas never connect it twice), answers over REST, streams by editing the reply, turns button presses
// (message component interactions) into actions, and publishes the chat commands as slash commands whose answers
// go through the interaction (interaction-replies.ts).

import { randomUUID } from "node:crypto";
import type { RawFile } from "@discordjs/rest";
import type { GatewayDispatchPayload } from "discord-api-types/v10";
import type { Attachment, DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { cutText } from "../../core/text-cut.ts";
import { runSingleton, type Singleton } from "../../runtime/singleton.ts";
import { fetchPolicyFromConfig } from "../../security/url-guard.ts";
import { Allowlist } from "../sdk/allowlist.ts";
import { capabilities } from "../sdk/capabilities.ts";
import { HealthTracker } from "../sdk/health.ts";
import { decodeButtonValue, encodeButtonValue } from "../shared/button-values.ts";
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
} from "../types.ts";
import { publishSlashCommands } from "./application-commands.ts";
import { ButtonPresses } from "./button-presses.ts";
import { ChannelCache } from "./channel-cache.ts";
import { DiscordClient, isUploadTooLarge, type MessageBody, nonceOf } from "./client.ts";
import {
  type DiscordAccountConfig,
  discordAccountConfig,
  discordFromEnv,
  discordSettings,
} from "./config.ts";
import { discordDoctor } from "./doctor.ts";
import { fetchDiscordFile } from "./files.ts";
import { componentRows, DISCORD_MAX_CUSTOM_ID, DISCORD_MAX_TEXT, discordText, filesOf } from "./format.ts";
import { InteractionReplies, slashContextOf } from "./interaction-replies.ts";
import { normalizeInteraction, normalizeMessage } from "./normalize.ts";
import { runShard } from "./shard.ts";
import type { DcInteraction } from "./types.ts";

export class DiscordAdapter implements ChannelAdapter {
  readonly channel = "discord";
  readonly account: string;
  readonly capabilities = capabilities({
    edit: true,
    answersPresses: true,
    threads: true,
    media: true,
    downloads: true,
    buttons: true,
    maxTextLength: DISCORD_MAX_TEXT,
    minEditIntervalMs: 1200,
  });
  readonly client: DiscordClient;
  readonly #cfg: DiscordAccountConfig;
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #allowed: Allowlist;
  readonly #channels: ChannelCache;
  readonly #presses: ButtonPresses;
  /** When each recent message was last written: edits of one message stay minEditIntervalMs apart. */
  readonly #lastWrite = new Map<string, number>();
  /** The bot's user id, which is also its application id; Discord tokens start with it in base64. */
  readonly #botId: string;
  /** The application id: from READY, else the bot's user id (the same for every bot application). */
  #appId: string;
  readonly #replies: InteractionReplies;
  #singleton: Singleton | undefined;
  #published: Promise<void> | undefined;
  #firstOutcome: { resolve(v: string | undefined): void; promise: Promise<string | undefined> };

  constructor(cfg: DiscordAccountConfig, ctx: ChannelContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.account = cfg.id;
    this.client = new DiscordClient({ token: cfg.token, apiBase: cfg.apiBase });
    this.#allowed = new Allowlist(cfg.allowedUsers, cfg.allowedChannels);
    this.#botId = Buffer.from(cfg.token.split(".")[0]!, "base64").toString("utf8");
    this.#appId = this.#botId;
    let resolve!: (v: string | undefined) => void;
    const promise = new Promise<string | undefined>((r) => {
      resolve = r;
    });
    this.#firstOutcome = { resolve, promise };
    this.#channels = new ChannelCache({ client: this.client, log: ctx.log, account: this.account });
    this.#presses = new ButtonPresses({
      client: this.client,
      log: ctx.log,
      account: this.account,
      botId: this.#botId,
    });
    this.#replies = new InteractionReplies({
      client: this.client,
      store: ctx.store,
      log: ctx.log,
      account: this.account,
      botId: this.#botId,
    });
  }

  async start() {
    const { store, log } = this.#ctx;
    if (!/^\d{5,25}$/.test(this.#botId)) {
      throw new Error(
        `channels.discord (account "${this.account}"): this is not a Discord bot token. Copy it from the Developer Portal → your application → Bot → Reset Token.`,
      );
    }
    const lease = `discord:shard:${this.#botId}:0`;
    const owner = this.#ctx.owner ?? `discord-${randomUUID()}`;
    const holder = await store.leaseHolder(lease);
    const elsewhere = holder && holder.owner !== owner && holder.until > Date.now();
    this.#singleton = runSingleton(
      store,
      lease,
      owner,
      this.#cfg.leaseTtlMs,
      (signal) =>
        runShard(
          {
            client: this.client,
            token: this.#cfg.token,
            appId: this.#botId,
            account: this.account,
            store,
            log,
            onDispatch: (p) => this.#onDispatch(p),
            onReady: () => {
              this.#publishCommands();
              this.#health.status("running");
              this.#firstOutcome.resolve(undefined);
            },
            onFatal: (message) => {
              this.#health.error(message);
              this.#health.status("error");
              log.error({ account: this.account }, message);
              this.#firstOutcome.resolve(message);
            },
          },
          signal,
        ),
      { log },
    );
    if (elsewhere) {
      log.info(
        { account: this.account },
        "discord: another replica holds this bot's gateway shard; standing by",
      );
      return;
    }
    // Wait for READY so a bad token or a missing intent stops `clawgate start` with the reason.
    const timeout = new Promise<"timeout">((r) =>
      setTimeout(() => r("timeout"), this.#cfg.readyTimeoutMs).unref(),
    );
    const outcome = await Promise.race([this.#firstOutcome.promise, timeout]);
    if (outcome === "timeout") {
      log.warn(
        { account: this.account },
        "discord: no READY from the gateway yet; still trying in the background",
      );
    } else if (outcome) {
      await this.#singleton.stop();
      throw new Error(outcome);
    }
  }

  async stop() {
    this.#presses.stop();
    await this.#singleton?.stop();
    await Promise.all([this.#published, this.#replies.stop()]);
    this.#health.status("stopped");
  }

  /** Once per process, when the shard is first up here: the chat commands become slash commands. */
  #publishCommands() {
    if (this.#published || !this.#cfg.slashCommands || !this.#ctx.commandList) return;
    this.#published = publishSlashCommands({
      client: this.client,
      applicationId: this.#appId,
      guilds: this.#cfg.commandGuilds,
      list: this.#ctx.commandList(),
      log: this.#ctx.log,
      account: this.account,
    });
  }

  // ---- receiving ----

  async #onDispatch(p: GatewayDispatchPayload) {
    if (this.#channels.learn(p)) return;
    switch (p.t) {
      case "READY":
        this.#appId = p.d.application?.id ?? this.#botId;
        return;
      case "MESSAGE_CREATE":
        return this.#onMessage(p.d);
      case "INTERACTION_CREATE":
        return this.#onInteraction(p.d as unknown as Partial<DcInteraction> | null);
      default:
        return;
    }
  }

  #skipped = (reason: string) => this.#ctx.log.warn({ account: this.account }, `discord: ${reason}`);

  async #onMessage(msg: { guild_id?: unknown; channel_id?: unknown } | null) {
    const channel = await this.#channels.resolve(msg?.guild_id, msg?.channel_id);
    const event = normalizeMessage(msg, {
      account: this.account,
      botId: this.#botId,
      requireMention: this.#cfg.requireMention,
      channel,
      onInvalid: this.#skipped,
    });
    if (!event?.addressed || !this.#listensIn(event)) return;
    this.#health.inbound();
    await this.#ctx.ingest(event);
  }

  async #onInteraction(interaction: Partial<DcInteraction> | null) {
    const arrivedAt = Date.now();
    const channel = await this.#channels.resolve(interaction?.guild_id, interaction?.channel_id);
    const event = normalizeInteraction(interaction, {
      account: this.account,
      botId: this.#botId,
      requireMention: false,
      channel,
      onInvalid: this.#skipped,
    });
    if (event?.replyContext?.slash) return this.#onSlashCommand(event);
    if (!event?.action) return;
    event.action.value = (await decodeButtonValue(this.#ctx.store, event.action.value)) ?? "";
    this.#presses.arm(event.action.id, String(event.replyContext?.interactionToken), arrivedAt);
    this.#health.inbound();
    await this.#ctx.ingest(event);
  }

  /** A slash command: acknowledged (deferred) before it is stored, answered through the interaction later. */
  async #onSlashCommand(event: InboundEvent) {
    const id = String(event.replyContext!.interactionId);
    const token = String(event.replyContext!.interactionToken);
    if (!this.#listensIn(event)) {
      const note = { content: "I don't answer in this channel.", flags: 64 };
      await this.client.interactionCallback(id, token, 4, note).catch(() => {});
      return;
    }
    this.#replies.defer(id, token);
    this.#health.inbound();
    await this.#ctx.ingest(event);
  }

  /** With allowedChannels set, guild channels (and their threads) outside the list are not listened to. */
  #listensIn(event: InboundEvent): boolean {
    if (event.conversation.kind === "dm" || this.#allowed.conversations === 0) return true;
    if (this.#allowed.hasConversation(event.conversation.id)) return true;
    return (
      event.conversation.thread !== undefined && this.#allowed.hasConversation(event.conversation.thread)
    );
  }

  // ---- sending ----

  send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions = {}): Promise<SentMessage> {
    return this.#health.track(() => this.#send(to, message, options));
  }

  async #send(to: DeliveryAddress, message: OutboundMessage, options: SendOptions): Promise<SentMessage> {
    const files = filesOf(message.media ?? []);
    const replyTo = to.replyContext?.replyToMessageId;
    const body: MessageBody = {
      ...(await this.#content(message)),
      ...(files.length ? { attachments: files.map((f, i) => ({ id: i, filename: f.name })) } : {}),
      ...(typeof replyTo === "string"
        ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } }
        : {}),
    };
    const channelId = to.thread ?? to.conversationId;
    const slash = slashContextOf(to);
    // Discord's own duplicate check: a retry of this delivery within a few minutes gets the message already made.
    const key = options.idempotencyKey;
    const deliver = (b: MessageBody, f: RawFile[] | undefined): Promise<string> => {
      // Discord's own duplicate check: a retry of this delivery within a few minutes gets the message already made.
      const once = key ? { ...b, nonce: nonceOf(key), enforce_nonce: true } : b;
      const toChannel = () => this.client.createMessage(channelId, once, f, slash !== undefined);
      return slash ? this.#replies.send(slash, b, f, key, toChannel) : toChannel().then((m) => m.id);
    };
    let id: string;
    try {
      id = await deliver(body, files.length ? files : undefined);
    } catch (err) {
      if (!files.length || !isUploadTooLarge(err)) throw err;
      // Over this channel's upload limit (10 MiB unless the server is boosted): the text still goes, with a note.
      const note = `(${files.map((f) => f.name).join(", ")} could not be sent: larger than Discord's upload limit here)`;
      const { attachments: _, ...rest } = body;
      id = await deliver(
        { ...rest, content: cutText([rest.content, note].filter(Boolean).join("\n\n"), DISCORD_MAX_TEXT) },
        undefined,
      );
    }
    this.#wrote(id);
    return { messageId: id };
  }

  edit(to: DeliveryAddress, messageId: string, message: OutboundMessage): Promise<void> {
    return this.#health.track(() => this.#edit(to, messageId, message));
  }

  async #edit(to: DeliveryAddress, messageId: string, message: OutboundMessage): Promise<void> {
    // The final text (through the outbox) may follow the last streamed preview at once: keep the spacing.
    const wait = (this.#lastWrite.get(messageId) ?? 0) + this.capabilities.minEditIntervalMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await this.client.editMessage(to.thread ?? to.conversationId, messageId, await this.#content(message));
    this.#wrote(messageId);
  }

  #wrote(messageId: string) {
    const now = Date.now();
    this.#lastWrite.set(messageId, now);
    if (this.#lastWrite.size > 1000) {
      for (const [id, at] of this.#lastWrite) if (now - at > 60_000) this.#lastWrite.delete(id);
    }
  }

  async #content(message: OutboundMessage): Promise<MessageBody> {
    const buttons = [];
    for (const b of message.buttons ?? []) {
      buttons.push({
        label: b.label,
        style: b.style,
        customId: await encodeButtonValue(this.#ctx.store, b.value, DISCORD_MAX_CUSTOM_ID),
      });
    }
    return {
      content: cutText(discordText(message.text), DISCORD_MAX_TEXT),
      ...(buttons.length ? { components: componentRows(buttons) } : {}),
    };
  }

  /** Answers a button press (see button-presses.ts). */
  answerAction(event: InboundEvent, text?: string): Promise<void> {
    return this.#presses.answer(event, text);
  }

  fetchAttachment(attachment: Attachment, limits: FetchLimits): Promise<FetchedMedia> {
    const policy = fetchPolicyFromConfig(this.#ctx.config);
    return fetchDiscordFile({ apiBase: this.#cfg.apiBase, policy }, attachment, limits);
  }

  isTrusted(event: InboundEvent): boolean {
    return (
      this.#allowed.has(event) ||
      // A thread is trusted where its parent channel is.
      (event.conversation.thread !== undefined && this.#allowed.hasConversation(event.conversation.thread))
    );
  }

  health() {
    return this.#health.snapshot();
  }
}

export const discordModule = defineChannel({
  ...discordSettings,
  apiVersion: CHANNEL_API_VERSION,
  fromEnv: discordFromEnv,
  create: (settings, ctx, account) =>
    new DiscordAdapter(discordAccountConfig(settings, account, ctx.env), ctx),
  doctor: (settings, ctx) => discordDoctor(discordAccountConfig(settings, ctx.account, ctx.env), ctx),
});
