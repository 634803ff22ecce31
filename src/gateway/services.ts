// What modules (command handlers, targets, security) can use from the running gateway.
import type { Logger } from "pino";
import type { ChannelAdapter, OutboundMessage } from "../channels/types.ts";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import type { DeliveryAddress, InboundEvent } from "../core/event.ts";
import type { MediaService } from "../media/service.ts";
import type { Store } from "../store/types.ts";
import type { Target } from "../targets/types.ts";
import type { ActionRegistry } from "./actions.ts";
import type { CommandRegistry } from "./commands.ts";

/** Decides whether an untrusted sender may converse; DM pairing plugs in here. */
export interface TrustGate {
  check(
    event: InboundEvent,
    adapter: ChannelAdapter,
    services: GatewayServices,
  ): Promise<{ allow: true } | { allow: false; reply?: OutboundMessage }>;
  /** Senders admitted at runtime (DM pairing's persistent allowlist): trusted for commands too. */
  isAllowlisted?(event: InboundEvent): Promise<boolean>;
}

export interface DeliverOptions {
  /** How the message enters the session's history: "assistant" makes a late agent reply part of the context. */
  historyRole?: "assistant" | "system" | "error";
  /** false: leave the history alone (the text is part of a reply already recorded). */
  record?: boolean;
}

export interface GatewayServices {
  readonly config: Config;
  readonly env: Env;
  readonly log: Logger;
  readonly store: Store;
  /** The media store and signed links (inbound attachments, pictures for platforms that fetch by URL). */
  readonly media: MediaService;
  readonly commands: CommandRegistry;
  readonly actions: ActionRegistry;
  readonly startedAt: number;
  readonly version: string;
  /** Extra lines for /status (ComfyUI pool health, pairing counts …). */
  readonly statusProviders: (() => Promise<string | undefined>)[];
  adapter(channel: string, account: string): ChannelAdapter | undefined;
  adapters(): ChannelAdapter[];
  /** The conversation target for a session (per channel/account routing). */
  targetFor(event: InboundEvent): Target;
  /** `selfAsserted`: the id was chosen by the sender (web chat userId); only `channel:id` entries match it. */
  isAdmin(channel: string, senderId: string, selfAsserted?: boolean): boolean;
  /** Queues a message to any conversation through the outbox (durable, paced, idempotent by key). */
  deliver(
    address: DeliveryAddress,
    message: OutboundMessage,
    idempotencyKey: string,
    opts?: DeliverOptions,
  ): Promise<{ id: number; inserted: boolean }>;
  /** Appends to a session's history (e.g. a result that arrived later). */
  record(sessionKey: string, role: "assistant" | "system" | "error", content: string): Promise<void>;
}
