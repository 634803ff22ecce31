// DM pairing: the TrustGate that replaces the default for senders not on a channel's allowlist. Per channel,
// `dmPolicy` decides: "open" admits everyone; "disabled" answers nobody; "allowlist" tells the sender their id;
// "pairing" gives an unknown sender in a DM an 8-character code an admin can approve, after which the sender
// is on a persistent allowlist (in the store) that the pipeline honours like the channel's own allowlist.
import type { ChannelAdapter, OutboundMessage } from "../channels/types.ts";
import type { DeliveryAddress, InboundEvent } from "../core/event.ts";
import type { DeliverOptions, GatewayServices, TrustGate } from "../gateway/services.ts";
import { randomChars } from "../security/tokens.ts";
import type { KvStore } from "../store/facets.ts";

export const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
export const CODE_LENGTH = 8;
export const CODE_TTL_MS = 60 * 60_000;
export const MAX_PENDING_PER_CHANNEL = 3;

const NS_CODE = "dm:code";
const NS_SENDER = "dm:sender";
const NS_SLOT = "dm:slot";
const NS_ALLOW = "dm:allow";

export interface DmPairingRequest {
  code: string;
  channel: string;
  account: string;
  senderId: string;
  senderName?: string;
  address: DeliveryAddress;
  createdAt: number;
  expiresAt: number;
  slot: number;
}

export interface AllowlistEntry {
  channel: string;
  senderId: string;
  name?: string;
  approvedAt: number;
  approvedBy: string;
}

type Deliver = (
  address: DeliveryAddress,
  message: OutboundMessage,
  key: string,
  opts?: DeliverOptions,
) => Promise<unknown>;

export function looksLikeDmCode(s: string): boolean {
  return s.length === CODE_LENGTH && [...s.toUpperCase()].every((c) => CODE_ALPHABET.includes(c));
}

export class DmPairing implements TrustGate {
  readonly #store: KvStore;
  readonly #deliver: Deliver;
  readonly #fallback: TrustGate;

  /** `fallback`: the gate for channels whose dmPolicy is not "pairing" (the gateway's allowlist gate). */
  constructor(store: KvStore, deliver: Deliver, fallback: TrustGate) {
    this.#store = store;
    this.#deliver = deliver;
    this.#fallback = fallback;
  }

  async isAllowlisted(event: InboundEvent): Promise<boolean> {
    return (await this.#store.kvGet(NS_ALLOW, `${event.channel}:${event.sender.id}`)) !== undefined;
  }

  async check(
    event: InboundEvent,
    adapter: ChannelAdapter,
    services: GatewayServices,
  ): Promise<{ allow: true } | { allow: false; reply?: OutboundMessage }> {
    const policy = services.config.channels[event.channel]?.dmPolicy ?? "allowlist";
    if (policy !== "pairing") return this.#fallback.check(event, adapter, services);
    if (event.conversation.kind !== "dm") return { allow: false };
    const request = await this.#requestFor(event);
    if (request === "full") {
      return {
        allow: false,
        reply: {
          kind: "error",
          text: `This assistant only answers approved people, and ${MAX_PENDING_PER_CHANNEL} pairing requests are already waiting on this channel. Try again later.`,
        },
      };
    }
    const minutes = Math.max(1, Math.round((request.expiresAt - Date.now()) / 60_000));
    return {
      allow: false,
      reply: {
        kind: "notice",
        text: `This assistant only answers approved people. Your pairing code is ${request.code} (valid ${minutes} min): ask the operator to approve it with /pair approve ${request.code} (or \`clawgate pair approve ${request.code}\`).`,
      },
    };
  }

  /** The sender's live request, or a new one when a slot is free on the channel. */
  async #requestFor(event: InboundEvent): Promise<DmPairingRequest | "full"> {
    const senderKey = `${event.channel}:${event.account}:${event.sender.id}`;
    const existing = await this.#store.kvGet(NS_SENDER, senderKey);
    if (existing) {
      const request = await this.get(existing);
      if (request) return request;
    }
    // Slots make the per-channel cap atomic across replicas: a request exists only while it holds a slot.
    const code = randomChars(CODE_ALPHABET, CODE_LENGTH);
    let slot = -1;
    for (let i = 0; i < MAX_PENDING_PER_CHANNEL && slot < 0; i++) {
      if (await this.#store.kvSetIfAbsent(NS_SLOT, `${event.channel}:${i}`, code, CODE_TTL_MS)) slot = i;
    }
    if (slot < 0) return "full";
    const now = Date.now();
    const request: DmPairingRequest = {
      code,
      channel: event.channel,
      account: event.account,
      senderId: event.sender.id,
      senderName: event.sender.name,
      address: {
        channel: event.channel,
        account: event.account,
        conversationId: event.conversation.id,
        thread: event.conversation.thread,
      },
      createdAt: now,
      expiresAt: now + CODE_TTL_MS,
      slot,
    };
    await this.#store.kvSet(NS_CODE, code, JSON.stringify(request), CODE_TTL_MS);
    await this.#store.kvSet(NS_SENDER, senderKey, code, CODE_TTL_MS);
    return request;
  }

  async get(code: string): Promise<DmPairingRequest | undefined> {
    const raw = await this.#store.kvGet(NS_CODE, code.toUpperCase());
    return raw ? (JSON.parse(raw) as DmPairingRequest) : undefined;
  }

  async pending(): Promise<DmPairingRequest[]> {
    const rows = await this.#store.kvList(NS_CODE, { limit: 10_000 });
    return rows.map((r) => JSON.parse(r.value) as DmPairingRequest).sort((a, b) => a.createdAt - b.createdAt);
  }

  async #remove(request: DmPairingRequest) {
    await this.#store.kvDelete(NS_CODE, request.code);
    await this.#store.kvDelete(NS_SENDER, `${request.channel}:${request.account}:${request.senderId}`);
    await this.#store.kvDelete(NS_SLOT, `${request.channel}:${request.slot}`);
  }

  /** Approves a code: the sender joins the persistent allowlist and is told so. Single use (kvTake). */
  async approve(code: string, by: string): Promise<DmPairingRequest | undefined> {
    const raw = await this.#store.kvTake(NS_CODE, code.toUpperCase());
    if (!raw) return undefined;
    const request = JSON.parse(raw) as DmPairingRequest;
    await this.#remove(request);
    const entry: AllowlistEntry = {
      channel: request.channel,
      senderId: request.senderId,
      name: request.senderName,
      approvedAt: Date.now(),
      approvedBy: by,
    };
    await this.#store.kvSet(NS_ALLOW, `${request.channel}:${request.senderId}`, JSON.stringify(entry));
    await this.#deliver(
      request.address,
      { text: "An operator approved you: you can talk to the assistant now.", kind: "notice" },
      `dm-pair:approved:${request.code}`,
    ).catch(() => {});
    return request;
  }

  async reject(code: string): Promise<DmPairingRequest | undefined> {
    const raw = await this.#store.kvTake(NS_CODE, code.toUpperCase());
    if (!raw) return undefined;
    const request = JSON.parse(raw) as DmPairingRequest;
    await this.#remove(request);
    return request;
  }

  /** Drops every pending code (expired ones are already invisible; this frees the slots). */
  async cleanup(): Promise<number> {
    const all = await this.pending();
    for (const r of all) await this.#remove(r);
    return all.length;
  }

  async allowlist(): Promise<AllowlistEntry[]> {
    const rows = await this.#store.kvList(NS_ALLOW, { limit: 10_000 });
    return rows.map((r) => JSON.parse(r.value) as AllowlistEntry);
  }

  async removeFromAllowlist(channel: string, senderId: string): Promise<boolean> {
    const key = `${channel}:${senderId}`;
    const had = (await this.#store.kvGet(NS_ALLOW, key)) !== undefined;
    await this.#store.kvDelete(NS_ALLOW, key);
    return had;
  }
}

export function publicDmRequest(r: DmPairingRequest) {
  return {
    id: r.code,
    kind: "dm" as const,
    channel: r.channel,
    account: r.account,
    senderId: r.senderId,
    senderName: r.senderName,
    createdAt: r.createdAt,
    expiresAtMs: r.expiresAt,
  };
}
