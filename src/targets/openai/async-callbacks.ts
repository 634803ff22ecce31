// Callback tokens for the async agent mode (channel-gateway seed): each forwarded message gets a 64-hex token
// naming the chat to answer. The store keeps only the token's SHA-256 → {address, session, expiry}, so a reply
// still reaches the chat after a restart, and a token is single-use (kvTake). Expired and used tokens leave a
// tombstone for a day so a late agent hears 410 (expired) rather than 404 (never existed / already used).
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { DeliveryAddress } from "../../core/event.ts";
import type { KvStore } from "../../store/facets.ts";

const NS = "ocg:cb";
const NS_DONE = "ocg:cb-done";
const TOMBSTONE_MS = 24 * 3600_000;

export interface CallbackRecord {
  address: DeliveryAddress;
  sessionKey: string;
  eventId: string;
  createdAt: number;
  expiresAt: number;
}

export type Consumed =
  | { kind: "ok"; record: CallbackRecord; id: string }
  | { kind: "unknown" }
  | { kind: "used" }
  | { kind: "expired" };

export const CALLBACK_TOKEN = /^[0-9a-f]{64}$/;

/**
 * Whether a callback body is bound to the URL it was posted to. The seed signs the body alone, so a signed
 * body would be valid at any callback URL; an agent binds its reply by naming the token in the (signed) body:
 * `{"reply": "…", "callbackToken": "<the 64 hex of its URL>"}`. The seed's own gateway ignores the extra
 * field, so a binding agent works with both. "unbound": the seed's form, accepted for compatibility.
 */
export function callbackBinding(body: unknown, token: string): "bound" | "unbound" | "mismatch" {
  if (!body || typeof body !== "object" || !("callbackToken" in body)) return "unbound";
  const named = (body as { callbackToken?: unknown }).callbackToken;
  if (typeof named !== "string" || named.length !== token.length) return "mismatch";
  return timingSafeEqual(Buffer.from(named), Buffer.from(token)) ? "bound" : "mismatch";
}

const idOf = (token: string) => createHash("sha256").update(token).digest("hex");

export class CallbackTokens {
  readonly #store: KvStore;
  readonly #ttlMs: number;

  constructor(store: KvStore, ttlMs: number) {
    this.#store = store;
    this.#ttlMs = ttlMs;
  }

  async create(address: DeliveryAddress, sessionKey: string, eventId: string): Promise<string> {
    const token = randomBytes(32).toString("hex");
    const now = Date.now();
    const record: CallbackRecord = {
      address,
      sessionKey,
      eventId,
      createdAt: now,
      expiresAt: now + this.#ttlMs,
    };
    await this.#store.kvSet(NS, idOf(token), JSON.stringify(record), this.#ttlMs + TOMBSTONE_MS);
    return token;
  }

  /** Forgets a token whose forward failed (the chat got the error already). */
  async discard(token: string) {
    await this.#store.kvDelete(NS, idOf(token));
  }

  async consume(token: string): Promise<Consumed> {
    const id = idOf(token);
    const raw = await this.#store.kvTake(NS, id);
    if (raw) {
      const record = JSON.parse(raw) as CallbackRecord;
      const expired = record.expiresAt <= Date.now();
      await this.#store.kvSet(NS_DONE, id, expired ? "expired" : "used", TOMBSTONE_MS);
      return expired ? { kind: "expired" } : { kind: "ok", record, id };
    }
    const done = await this.#store.kvGet(NS_DONE, id);
    return done === "expired"
      ? { kind: "expired" }
      : done === "used"
        ? { kind: "used" }
        : { kind: "unknown" };
  }

  /** Retires every expired token; `onExpired` runs once per token (kvTake makes it once across replicas). */
  async sweep(onExpired: (record: CallbackRecord, id: string) => Promise<void>): Promise<number> {
    const now = Date.now();
    let n = 0;
    for (const { key, value } of await this.#store.kvList(NS, { limit: 10_000 })) {
      const record = JSON.parse(value) as CallbackRecord;
      if (record.expiresAt > now) continue;
      if (!(await this.#store.kvTake(NS, key))) continue;
      await this.#store.kvSet(NS_DONE, key, "expired", TOMBSTONE_MS);
      await onExpired(record, key).catch(() => {});
      n++;
    }
    return n;
  }
}
