// The Discord channel: one adapter per bot. Receives over the gateway socket (one shard, held by a store lease so
// replicas never connect it twice), answers over REST, streams by editing the reply, and turns button presses
// (message component interactions) into actions.
import { randomUUID } from "node:crypto";
import type { GatewayDispatchPayload } from "discord-api-types/v10";
import type { DeliveryAddress, InboundEvent } from "../../core/event.ts";
import { runSingleton, type Singleton } from "../../gateway/singleton.ts";
import { HealthTracker } from "../health.ts";
import { decodeButtonValue, encodeButtonValue } from "../shared/button-values.ts";
import type {
  ChannelAdapter,
  ChannelContext,
  ChannelModule,
  OutboundMessage,
  SentMessage,
} from "../types.ts";
import { DiscordClient, DiscordRefusedError, type MessageBody } from "./client.ts";
import { type DiscordAccountConfig, discordAccounts, discordFromEnv } from "./config.ts";
import { componentRows, DISCORD_MAX_CUSTOM_ID, DISCORD_MAX_TEXT, filesOf } from "./format.ts";
import { normalizeInteraction, normalizeMessage } from "./normalize.ts";
import { runShard } from "./shard.ts";
import type { DcChannel, DcInteraction, DcMessage } from "./types.ts";

/** Discord shows "This interaction failed" after 3 s without an answer: acknowledge before that. */
const INTERACTION_ACK_MS = 2000;

export class DiscordAdapter implements ChannelAdapter {
  readonly channel = "discord";
  readonly account: string;
  readonly capabilities = {
    edit: true,
    threads: true,
    media: true,
    buttons: true,
    maxTextLength: DISCORD_MAX_TEXT,
    minEditIntervalMs: 1200,
  };
  readonly client: DiscordClient;
  readonly #cfg: DiscordAccountConfig;
  readonly #ctx: ChannelContext;
  readonly #health = new HealthTracker();
  readonly #allowedUsers: Set<string>;
  readonly #allowedChannels: Set<string>;
  readonly #channels = new Map<string, DcChannel>();
  readonly #pendingAcks = new Map<string, NodeJS.Timeout>();
  /** When each recent message was last written: edits of one message stay minEditIntervalMs apart. */
  readonly #lastWrite = new Map<string, number>();
  /** The bot's user id, which is also its application id; Discord tokens start with it in base64. */
  readonly #botId: string;
  #singleton: Singleton | undefined;
  #firstOutcome: { resolve(v: string | undefined): void; promise: Promise<string | undefined> };

  constructor(cfg: DiscordAccountConfig, ctx: ChannelContext) {
    this.#cfg = cfg;
    this.#ctx = ctx;
    this.account = cfg.id;
    this.client = new DiscordClient({ token: cfg.token, apiBase: cfg.apiBase });
    this.#allowedUsers = new Set(cfg.allowedUsers);
    this.#allowedChannels = new Set(cfg.allowedChannels);
    this.#botId = Buffer.from(cfg.token.split(".")[0]!, "base64").toString("utf8");
    let resolve!: (v: string | undefined) => void;
    const promise = new Promise<string | undefined>((r) => {
      resolve = r;
    });
    this.#firstOutcome = { resolve, promise };
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
    for (const t of this.#pendingAcks.values()) clearTimeout(t);
    this.#pendingAcks.clear();
    await this.#singleton?.stop();
    this.#health.status("stopped");
  }

  // ---- receiving ----

  async #onDispatch(p: GatewayDispatchPayload) {
    switch (p.t) {
      case "GUILD_CREATE":
        for (const c of [...(p.d.channels ?? []), ...(p.d.threads ?? [])]) {
          this.#channels.set(c.id, {
            id: c.id,
            type: c.type,
            guild_id: p.d.id,
            parent_id: (c as DcChannel).parent_id,
          });
        }
        return;
      case "THREAD_CREATE":
      case "CHANNEL_CREATE":
      case "CHANNEL_UPDATE":
        this.#channels.set(p.d.id, p.d as unknown as DcChannel);
        return;
      case "MESSAGE_CREATE":
        return this.#onMessage(p.d as unknown as DcMessage);
      case "INTERACTION_CREATE":
        return this.#onInteraction(p.d as unknown as DcInteraction);
      default:
        return;
    }
  }

  async #onMessage(msg: DcMessage) {
    const channel = msg.guild_id ? await this.#resolveChannel(msg.channel_id) : undefined;
    const event = normalizeMessage(msg, {
      account: this.account,
      botId: this.#botId,
      requireMention: this.#cfg.requireMention,
      channel,
    });
    if (!event?.addressed || !this.#listensIn(event)) return;
    this.#health.inbound();
    await this.#ctx.ingest(event);
  }

  async #onInteraction(interaction: DcInteraction) {
    const arrivedAt = Date.now();
    const channel =
      interaction.guild_id && interaction.channel_id
        ? await this.#resolveChannel(interaction.channel_id)
        : undefined;
    const event = normalizeInteraction(interaction, {
      account: this.account,
      botId: this.#botId,
      requireMention: false,
      channel,
    });
    if (!event?.action) return;
    event.action.value = (await decodeButtonValue(this.#ctx.store, event.action.value)) ?? "";
    // The pipeline answers with answerAction; if it is busy, acknowledge in time so the button doesn't fail.
    // Discord's clock started when the press arrived, so the time spent resolving and storing counts too; the
    // timer is armed before ingest so a quick pipeline answer always finds it.
    const timer = setTimeout(
      () => {
        this.#pendingAcks.delete(interaction.id);
        this.client.interactionCallback(interaction.id, interaction.token, 6).catch((err: Error) => {
          this.#ctx.log.warn(
            { account: this.account, err: err.message },
            "discord: acknowledging a button press failed",
          );
        });
      },
      Math.max(0, INTERACTION_ACK_MS - (Date.now() - arrivedAt)),
    );
    timer.unref();
    this.#pendingAcks.set(interaction.id, timer);
    this.#health.inbound();
    await this.#ctx.ingest(event);
  }

  /** Thread or channel? Known from GUILD_CREATE and THREAD_CREATE, else asked once over REST. */
  async #resolveChannel(id: string): Promise<DcChannel | undefined> {
    const known = this.#channels.get(id);
    if (known) return known;
    try {
      const c = await this.client.channel(id);
      this.#channels.set(id, c);
      return c;
    } catch (err) {
      this.#ctx.log.warn(
        { account: this.account, channel: id, err: (err as Error).message },
        "discord: channel lookup failed",
      );
      return undefined;
    }
  }

  /** With allowedChannels set, guild channels (and their threads) outside the list are not listened to. */
  #listensIn(event: InboundEvent): boolean {
    if (event.conversation.kind === "dm" || this.#allowedChannels.size === 0) return true;
    if (this.#allowedChannels.has(event.conversation.id)) return true;
    return event.conversation.thread !== undefined && this.#allowedChannels.has(event.conversation.thread);
  }

  // ---- sending ----

  send(to: DeliveryAddress, message: OutboundMessage): Promise<SentMessage> {
    return this.#health.track(() => this.#send(to, message));
  }

  async #send(to: DeliveryAddress, message: OutboundMessage): Promise<SentMessage> {
    const files = filesOf(message.media ?? []);
    const replyTo = to.replyContext?.replyToMessageId;
    const body: MessageBody = {
      ...(await this.#content(message)),
      ...(files.length ? { attachments: files.map((f, i) => ({ id: i, filename: f.name })) } : {}),
      ...(typeof replyTo === "string"
        ? { message_reference: { message_id: replyTo, fail_if_not_exists: false } }
        : {}),
    };
    const sent = await this.client.createMessage(
      to.thread ?? to.conversationId,
      body,
      files.length ? files : undefined,
    );
    this.#wrote(sent.id);
    return { messageId: sent.id };
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
      content: message.text.slice(0, DISCORD_MAX_TEXT),
      ...(buttons.length ? { components: componentRows(buttons) } : {}),
    };
  }

  /**
   * Answers a button press: with an ephemeral message (only the presser sees it) or a silent acknowledgement. When
   * the press was already acknowledged (here after 2 s, or by another replica) the text goes as a follow-up.
   */
  async answerAction(event: InboundEvent, text?: string): Promise<void> {
    const ctx = event.replyContext ?? {};
    const id = String(ctx.interactionId ?? event.action?.id ?? "");
    const token = String(ctx.interactionToken ?? "");
    const appId = String(ctx.applicationId ?? this.#botId);
    if (!id || !token) return;
    const pending = this.#pendingAcks.get(id);
    if (pending) clearTimeout(pending);
    this.#pendingAcks.delete(id);
    const data = text ? { content: text.slice(0, DISCORD_MAX_TEXT), flags: 64 } : undefined;
    try {
      await this.client.interactionCallback(id, token, data ? 4 : 6, data);
    } catch (err) {
      if (!(err instanceof DiscordRefusedError && err.code === 40060)) throw err;
      if (data) await this.client.followUp(appId, token, data);
    }
  }

  isTrusted(event: InboundEvent): boolean {
    return (
      this.#allowedUsers.has(event.sender.id) ||
      this.#allowedChannels.has(event.conversation.id) ||
      (event.conversation.thread !== undefined && this.#allowedChannels.has(event.conversation.thread))
    );
  }

  health() {
    return this.#health.snapshot();
  }
}

export const discordModule: ChannelModule = {
  name: "discord",
  fromEnv: discordFromEnv,
  create: (section, ctx) => discordAccounts(section, ctx.env).map((cfg) => new DiscordAdapter(cfg, ctx)),
};
