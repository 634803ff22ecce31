// Paired devices and their tokens, bootstrap tokens and the approval queue — all in the store's kv, tokens only
// as SHA-256 hashes. Every single-use step (a bootstrap token, collecting the token after approval) is a
// kvTake, so two replicas (or two racing requests) can never both succeed. Every change to a device or a
// request is a read-modify-write committed with kvCompareAndSet and retried on conflict, so concurrent
// rotations never drop each other's token and a revoke is never overwritten: once a device is revoked, every
// later change starts from the revoked record and refuses to issue a token.
import type { DeliveryAddress } from "../core/event.ts";
import { hashToken, randomToken, shortId, tokenMatches } from "../security/tokens.ts";
import type { KvStore } from "../store/facets.ts";
import { announceRevoked } from "./revocations.ts";
import { DEFAULT_SCOPES, type Scope } from "./scopes.ts";

const NS_BOOT = "pair:boot";
const NS_REQ = "pair:req";
const NS_READY = "pair:ready";
const NS_DEVICE = "devices";

/** How long a handshake waits in the queue, and how long an approved device has to collect its token. */
export const REQUEST_TTL_MS = 15 * 60_000;
/** Revoked and expired tokens are kept this long so a device hears "revoked"/"expired", not "wrong". */
const TOKEN_TOMBSTONE_MS = 7 * 86_400_000;

export interface TokenRecord {
  id: string;
  hash: string;
  createdAt: number;
  expiresAt: number;
  revokedAt?: number;
}

export interface DeviceRecord {
  id: string;
  name: string;
  platform?: string;
  scopes: Scope[];
  createdAt: number;
  approvedBy: string;
  revokedAt?: number;
  tokens: TokenRecord[];
}

export interface PairRequest {
  id: string;
  name: string;
  platform?: string;
  /** Scopes the device asked for (the approver decides). */
  requestedScopes: Scope[];
  createdAt: number;
  expiresAtMs: number;
  /** "collected": the approved device has taken its first token; a later poll is told so (410). */
  status: "pending" | "approved" | "rejected" | "collected";
  pollHash: string;
  /** The chat where /pair was sent, told when the device shows up. */
  origin?: DeliveryAddress;
  address?: string;
  deviceId?: string;
  grantedScopes?: Scope[];
}

export interface BootstrapRecord {
  createdAt: number;
  expiresAtMs: number;
  createdBy: string;
  origin?: DeliveryAddress;
}

export interface IssuedToken {
  deviceId: string;
  tokenId: string;
  token: string;
  expiresAt: number;
  scopes: Scope[];
}

export type VerifyResult =
  | { ok: true; device: DeviceRecord; tokenId: string }
  | { ok: false; reason: "unknown-device" | "wrong-token" | "expired" | "revoked" };

/** A device record changed by another writer this many times in a row: give up rather than spin. */
const MAX_CAS_ATTEMPTS = 200;

export class ContendedError extends Error {
  constructor(what: string) {
    super(`${what} is being changed by too many concurrent requests; try again`);
    this.name = "ContendedError";
  }
}

/** A short random pause between compare-and-set attempts so racing writers spread out. */
const backoff = (attempt: number) =>
  new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 1 + attempt * 2)));

export interface DeviceOptions {
  tokenTtlMs: number;
  overlapMs: number;
}

export class DeviceRegistry {
  readonly #store: KvStore;
  readonly #o: DeviceOptions;

  constructor(store: KvStore, options: DeviceOptions) {
    this.#store = store;
    this.#o = options;
  }

  // ---- bootstrap tokens ----

  async createBootstrap(ttlMs: number, createdBy: string, origin?: DeliveryAddress) {
    const token = randomToken(32);
    const now = Date.now();
    const record: BootstrapRecord = { createdAt: now, expiresAtMs: now + ttlMs, createdBy, origin };
    await this.#store.kvSet(NS_BOOT, hashToken(token), JSON.stringify(record), ttlMs);
    return { token, expiresAtMs: record.expiresAtMs };
  }

  /** Consumes a bootstrap token (single use); undefined when unknown, used or expired. */
  async takeBootstrap(token: string): Promise<BootstrapRecord | undefined> {
    const raw = await this.#store.kvTake(NS_BOOT, hashToken(token));
    if (!raw) return undefined;
    const record = JSON.parse(raw) as BootstrapRecord;
    return record.expiresAtMs > Date.now() ? record : undefined;
  }

  async clearBootstraps(): Promise<number> {
    const all = await this.#store.kvList(NS_BOOT, { limit: 10_000 });
    for (const { key } of all) await this.#store.kvDelete(NS_BOOT, key);
    return all.length;
  }

  // ---- the approval queue ----

  async createRequest(input: {
    name: string;
    platform?: string;
    requestedScopes: Scope[];
    origin?: DeliveryAddress;
    address?: string;
  }): Promise<{ request: PairRequest; pollToken: string }> {
    const pollToken = randomToken(32);
    const now = Date.now();
    const request: PairRequest = {
      id: shortId("req_"),
      name: input.name,
      platform: input.platform,
      requestedScopes: input.requestedScopes,
      createdAt: now,
      expiresAtMs: now + REQUEST_TTL_MS,
      status: "pending",
      pollHash: hashToken(pollToken),
      origin: input.origin,
      address: input.address,
    };
    await this.#store.kvSet(NS_REQ, request.id, JSON.stringify(request), REQUEST_TTL_MS);
    return { request, pollToken };
  }

  async getRequest(id: string): Promise<PairRequest | undefined> {
    const raw = await this.#store.kvGet(NS_REQ, id);
    return raw ? (JSON.parse(raw) as PairRequest) : undefined;
  }

  async listRequests(): Promise<PairRequest[]> {
    const rows = await this.#store.kvList(NS_REQ, { limit: 10_000 });
    return rows.map((r) => JSON.parse(r.value) as PairRequest).sort((a, b) => a.createdAt - b.createdAt);
  }

  async pendingRequests(): Promise<PairRequest[]> {
    return (await this.listRequests()).filter((r) => r.status === "pending");
  }

  /** Approves a pending request: creates the device; its token is issued when the device polls. */
  async approve(id: string, by: string, scopes?: Scope[]): Promise<PairRequest | undefined> {
    const raw = await this.#store.kvGet(NS_REQ, id);
    if (!raw) return undefined;
    const request = JSON.parse(raw) as PairRequest;
    if (request.status !== "pending") return undefined;
    const now = Date.now();
    const device: DeviceRecord = {
      id: shortId("dev_", 10),
      name: request.name,
      platform: request.platform,
      scopes:
        scopes && scopes.length > 0
          ? scopes
          : request.requestedScopes.length > 0
            ? request.requestedScopes
            : DEFAULT_SCOPES,
      createdAt: now,
      approvedBy: by,
      tokens: [],
    };
    await this.#store.kvSet(NS_DEVICE, device.id, JSON.stringify(device));
    const approved: PairRequest = {
      ...request,
      status: "approved",
      deviceId: device.id,
      grantedScopes: device.scopes,
      expiresAtMs: now + REQUEST_TTL_MS,
    };
    // Two admins answering at once: one approval (or the rejection) wins, the loser's device is removed.
    if (!(await this.#store.kvCompareAndSet(NS_REQ, id, raw, JSON.stringify(approved), REQUEST_TTL_MS))) {
      await this.#store.kvDelete(NS_DEVICE, device.id);
      return undefined;
    }
    await this.#store.kvSet(NS_READY, id, device.id, REQUEST_TTL_MS);
    return approved;
  }

  async reject(id: string): Promise<PairRequest | undefined> {
    const raw = await this.#store.kvGet(NS_REQ, id);
    if (!raw) return undefined;
    const request = JSON.parse(raw) as PairRequest;
    if (request.status !== "pending") return undefined;
    const rejected: PairRequest = { ...request, status: "rejected" };
    const ok = await this.#store.kvCompareAndSet(NS_REQ, id, raw, JSON.stringify(rejected), REQUEST_TTL_MS);
    return ok ? rejected : undefined;
  }

  /** Clears the queue: every request not yet collected, and every unused bootstrap token. */
  async cleanup(): Promise<{ requests: number; bootstrapTokens: number }> {
    const requests = await this.listRequests();
    for (const r of requests) {
      await this.#store.kvDelete(NS_REQ, r.id);
      await this.#store.kvDelete(NS_READY, r.id);
    }
    return { requests: requests.length, bootstrapTokens: await this.clearBootstraps() };
  }

  /**
   * The device's poll. Pending and rejected answer with the status; an approved request hands out the
   * device's first token exactly once (the token exists only in this answer; the store keeps its hash).
   */
  async poll(
    id: string,
    pollToken: string,
  ): Promise<
    | { status: "unknown" }
    | { status: "pending" | "rejected"; request: PairRequest }
    | { status: "approved"; request: PairRequest; issued: IssuedToken }
    | { status: "collected" }
  > {
    const request = await this.getRequest(id);
    if (!request || !tokenMatches(pollToken, request.pollHash)) return { status: "unknown" };
    if (request.status === "collected") return { status: "collected" };
    if (request.status !== "approved") return { status: request.status, request };
    const deviceId = await this.#store.kvTake(NS_READY, id);
    if (!deviceId) return { status: "collected" };
    // The request stays (as collected) until it expires, so a second poll hears 410, not 404.
    const collected: PairRequest = { ...request, status: "collected" };
    await this.#store.kvSet(
      NS_REQ,
      id,
      JSON.stringify(collected),
      Math.max(1, request.expiresAtMs - Date.now()),
    );
    const issued = await this.issueToken(deviceId);
    if (!issued) return { status: "unknown" };
    return { status: "approved", request, issued };
  }

  // ---- devices and tokens ----

  async getDevice(id: string): Promise<DeviceRecord | undefined> {
    const raw = await this.#store.kvGet(NS_DEVICE, id);
    return raw ? (JSON.parse(raw) as DeviceRecord) : undefined;
  }

  async listDevices(): Promise<DeviceRecord[]> {
    const rows = await this.#store.kvList(NS_DEVICE, { limit: 10_000 });
    return rows.map((r) => JSON.parse(r.value) as DeviceRecord).sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * Read-modify-write of one device with compare-and-set, retried on conflict. `change` mutates the record
   * it is given (a fresh copy on every attempt) and returns the result, or undefined to write nothing.
   */
  async #update<T>(
    deviceId: string,
    change: (device: DeviceRecord) => T | undefined,
  ): Promise<T | undefined> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const raw = await this.#store.kvGet(NS_DEVICE, deviceId);
      if (!raw) return undefined;
      const device = JSON.parse(raw) as DeviceRecord;
      const result = change(device);
      if (result === undefined) return undefined;
      const now = Date.now();
      device.tokens = device.tokens.filter(
        (t) => Math.max(t.expiresAt, t.revokedAt ?? 0) > now - TOKEN_TOMBSTONE_MS,
      );
      if (await this.#store.kvCompareAndSet(NS_DEVICE, deviceId, raw, JSON.stringify(device))) return result;
      await backoff(attempt);
    }
    throw new ContendedError(`device ${deviceId}`);
  }

  /**
   * Issues a new token; earlier live tokens keep working for the overlap window only (rotation). The
   * lifetime is capped at tokenTtlMs. Refused (undefined) once the device is revoked — also when the revoke
   * lands while this call is retrying. Concurrent rotations each add their token: every token handed out
   * works until it expires, or until overlapMs after a later rotation commits, or until a revoke.
   */
  async issueToken(
    deviceId: string,
    opts: { ttlMs?: number; overlapMs?: number } = {},
  ): Promise<IssuedToken | undefined> {
    const token = randomToken(32);
    const hash = hashToken(token);
    const ttlMs = Math.min(opts.ttlMs ?? this.#o.tokenTtlMs, this.#o.tokenTtlMs);
    return this.#update(deviceId, (device) => {
      if (device.revokedAt) return undefined;
      const now = Date.now();
      const overlapUntil = now + (opts.overlapMs ?? this.#o.overlapMs);
      for (const t of device.tokens)
        if (!t.revokedAt && t.expiresAt > overlapUntil) t.expiresAt = overlapUntil;
      const record: TokenRecord = {
        id: `bt_${randomToken(9)}`,
        hash,
        createdAt: now,
        expiresAt: now + ttlMs,
      };
      device.tokens.push(record);
      return { deviceId, tokenId: record.id, token, expiresAt: record.expiresAt, scopes: device.scopes };
    });
  }

  /**
   * Revokes a whole device (every token), or one token when tokenId is given. A device revoke is retried
   * until it commits, and every token the record holds at that moment is revoked with it: a rotation that
   * committed first loses its token, one that comes later sees the revoked device and issues nothing.
   */
  async revoke(deviceId: string, tokenId?: string): Promise<DeviceRecord | undefined> {
    const revoked = await this.#update(deviceId, (device) => {
      const now = Date.now();
      if (tokenId) {
        const t = device.tokens.find((x) => x.id === tokenId);
        if (!t) return undefined;
        t.revokedAt ??= now;
      } else {
        device.revokedAt ??= now;
        for (const t of device.tokens) t.revokedAt ??= now;
      }
      return device;
    });
    if (revoked) announceRevoked(deviceId, tokenId);
    return revoked;
  }

  /** Checks a presented token against every token of the device, each in constant time. */
  async verify(deviceId: string, token: string): Promise<VerifyResult> {
    const device = await this.getDevice(deviceId);
    if (!device) return { ok: false, reason: "unknown-device" };
    const match = device.tokens.find((t) => tokenMatches(token, t.hash));
    if (!match) return { ok: false, reason: "wrong-token" };
    if (match.revokedAt || device.revokedAt) return { ok: false, reason: "revoked" };
    if (match.expiresAt <= Date.now()) return { ok: false, reason: "expired" };
    return { ok: true, device, tokenId: match.id };
  }
}

/** A device as the admin API shows it: never a hash. */
export function publicDevice(d: DeviceRecord) {
  const now = Date.now();
  return {
    id: d.id,
    name: d.name,
    platform: d.platform,
    scopes: d.scopes,
    createdAt: d.createdAt,
    approvedBy: d.approvedBy,
    revokedAt: d.revokedAt,
    status: d.revokedAt
      ? "revoked"
      : d.tokens.some((t) => !t.revokedAt && t.expiresAt > now)
        ? "active"
        : "expired",
    tokens: d.tokens.map((t) => ({
      id: t.id,
      createdAt: t.createdAt,
      expiresAt: t.expiresAt,
      revokedAt: t.revokedAt,
      status: t.revokedAt ? "revoked" : t.expiresAt > now ? "active" : "expired",
    })),
  };
}

export function publicRequest(r: PairRequest) {
  return {
    id: r.id,
    kind: "device" as const,
    name: r.name,
    platform: r.platform,
    requestedScopes: r.requestedScopes,
    status: r.status,
    createdAt: r.createdAt,
    expiresAtMs: r.expiresAtMs,
    address: r.address,
  };
}
