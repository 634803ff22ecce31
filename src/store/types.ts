// The one storage interface. Two implementations: node:sqlite (embedded default) and PostgreSQL (replicas).
// Nothing here may assume a single writer: every claim is a lease held by an owner id with an expiry, and
// every "do once" is an insert that either wins or finds the row already there.

import type { WorkspaceRows } from "./workspace-rows.ts";

export type QueueState = "pending" | "leased" | "done" | "dead";

export interface NewInboxItem {
  /** The event id (`channel:account:platformId`): enqueueing the same id twice is a no-op. */
  id: string;
  /** Also a no-op when an item with this id exists (the event's id in an earlier format: InboundEvent.formerId). */
  alias?: string;
  /** Lane: items of one session are handed out one at a time, in enqueue order. */
  sessionKey: string;
  /** JSON text of the InboundEvent. */
  payload: string;
  receivedAt: number;
}

/**
 * "inserted": stored, and its lane had nothing unfinished, so a claimer should wake. "queued": stored behind
 * unfinished items of its lane; it becomes claimable only when they finish, which wakes claimers itself.
 * "duplicate": the id was seen before (in any state); nothing stored.
 */
export type EnqueueResult = "inserted" | "queued" | "duplicate";

export interface InboxItem extends NewInboxItem {
  seq: number;
  state: QueueState;
  attempts: number;
  availableAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
}

export interface NewOutboxItem {
  /** Unique: a second enqueue with the same key returns the first item and changes nothing. */
  idempotencyKey: string;
  /** Lane: deliveries to one conversation go out in order. */
  sessionKey: string;
  channel: string;
  account: string;
  /** JSON text of the delivery (address + message or edit). */
  payload: string;
  /** The inbox event it answers, if any. */
  eventId?: string;
}

export interface OutboxItem extends NewOutboxItem {
  id: number;
  state: QueueState;
  attempts: number;
  availableAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  /** JSON text the channel returned (e.g. the platform message id). */
  result: string | null;
  createdAt: number;
}

/** "command" is a chat command the user typed; "system" the gateway's answer to it. Neither is sent as context. */
export type MessageRole = "user" | "assistant" | "system" | "error" | "command";

/**
 * What a user message carried besides its text, kept with it so later turns still send it: an image or audio by
 * its media id (the bytes live in the media table until they expire), or the text made of a file, a transcript
 * or a location.
 */
export type MessagePart =
  | { type: "text"; text: string }
  | { type: "image"; mediaId: string; mime: string; name?: string }
  | { type: "audio"; mediaId: string; mime: string; name?: string };

export interface NewMessage {
  sessionKey: string;
  role: MessageRole;
  content: string;
  eventId?: string;
  /** The sender's display name or id, for the web chat and history views. */
  author?: string;
  createdAt?: number;
  parts?: MessagePart[];
}

export interface StoredMessage {
  id: number;
  sessionKey: string;
  generation: number;
  role: MessageRole;
  content: string;
  eventId: string | null;
  author: string | null;
  createdAt: number;
  parts: MessagePart[] | null;
}

export interface SessionSearch {
  prefix?: string;
  text?: string;
  author?: string;
  limit?: number;
}

export interface SessionInfo {
  key: string;
  generation: number;
  title: string | null;
  createdAt: number;
  updatedAt: number;
  lastMessage: string | null;
}

/** A file kept in the store (src/store/schema.ts mediaTable). */
export interface StoredMedia {
  id: string;
  /** The conversation (or web chat thread) it belongs to. */
  owner: string;
  mime: string;
  name: string | null;
  size: number;
  bytes: Buffer;
  createdAt: number;
  expiresAt: number;
}

export interface NewMedia {
  id: string;
  owner: string;
  mime: string;
  name?: string;
  bytes: Buffer;
  expiresAt: number;
}

/** What completing an inbox item writes in the same transaction: the reply, its history, any deliveries. */
export interface InboxEffects {
  messages?: NewMessage[];
  outbox?: NewOutboxItem[];
  kv?: { namespace: string; key: string; value: string; ttlMs?: number }[];
}

export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  limit: number;
  /** Restrict outbox claims to these channels (the ones this process can deliver to). */
  channels?: string[];
}

export interface QueueStats {
  pending: number;
  leased: number;
  done: number;
  dead: number;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** Web chat workspaces, their files and memories (src/store/workspace-rows.ts). */
  readonly workspaces: WorkspaceRows;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;

  // ---- inbox ----
  /** Durable once the promise resolves (see EnqueueResult). */
  enqueueInbound(item: NewInboxItem): Promise<EnqueueResult>;
  /** Leases up to `limit` items, at most one per session lane, each the oldest unfinished of its lane. */
  claimInbound(opts: ClaimOptions): Promise<InboxItem[]>;
  extendInboundLease(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Marks done and applies the effects atomically. False when the lease was lost (nothing applied). */
  completeInbound(id: string, owner: string, effects?: InboxEffects): Promise<boolean>;
  /** Back to pending at `retryAt`, or dead when `dead` is set. */
  failInbound(
    id: string,
    owner: string,
    error: string,
    retry: { retryAt: number } | { dead: true },
  ): Promise<boolean>;
  getInbound(id: string): Promise<InboxItem | undefined>;
  /** Newest first. */
  listInbound(filter: { state?: QueueState; sessionKey?: string; limit?: number }): Promise<InboxItem[]>;
  /** Moves a dead item back to pending (operator action). */
  retryInbound(id: string): Promise<boolean>;
  inboxStats(): Promise<QueueStats>;
  /** Marks a dead item finished, keeping its error (operator action: never deleted, it is the dedup memory). */
  discardInbound(id: string): Promise<boolean>;

  // ---- outbox ----
  enqueueOutbound(item: NewOutboxItem): Promise<{ id: number; inserted: boolean }>;
  claimOutbound(opts: ClaimOptions): Promise<OutboxItem[]>;
  extendOutboundLease(id: number, owner: string, leaseMs: number): Promise<boolean>;
  completeOutbound(id: number, owner: string, result?: string): Promise<boolean>;
  failOutbound(
    id: number,
    owner: string,
    error: string,
    retry: { retryAt: number } | { dead: true },
  ): Promise<boolean>;
  getOutbound(id: number): Promise<OutboxItem | undefined>;
  findOutboundByKey(idempotencyKey: string): Promise<OutboxItem | undefined>;
  listOutbound(filter: { state?: QueueState; sessionKey?: string; limit?: number }): Promise<OutboxItem[]>;
  /** Moves a dead delivery back to pending (operator action); it keeps its idempotency key. */
  retryOutbound(id: number): Promise<boolean>;
  outboxStats(): Promise<QueueStats>;
  discardOutbound(id: number): Promise<boolean>;
  /** Every dead item of one queue back to pending (operator action); how many moved. */
  retryAllDead(queue: "inbox" | "outbox"): Promise<number>;

  // ---- sessions and history ----
  getSession(key: string): Promise<SessionInfo | undefined>;
  /** Creates the session if needed; sets the title only when it has none. */
  touchSession(key: string, title?: string): Promise<SessionInfo>;
  /**
   * touchSession that returns nothing and reads nothing: a write that joins the group commit of the writes
   * beside it (a web chat message's enqueue), for a caller that only needs the session to exist.
   */
  ensureSession(key: string, title?: string): Promise<void>;
  /**
   * touchSession, then the `last` newest messages of the session's current generation, oldest first: what a
   * conversation turn reads before it asks the agent (one round trip on PostgreSQL when the session exists).
   */
  sessionHistory(
    key: string,
    opts: { title?: string; last: number },
  ): Promise<{ session: SessionInfo; messages: StoredMessage[] }>;
  /** Starts a fresh generation: earlier messages stay visible but are no longer sent as context. */
  resetSession(key: string): Promise<SessionInfo>;
  listSessions(filter: { prefix?: string; limit?: number }): Promise<SessionInfo[]>;
  /** Sets (or with null clears) the title; undefined when there is no such session. */
  renameSession(key: string, title: string | null): Promise<SessionInfo | undefined>;
  /** Removes the message `fromId` and every later one of the session; answers how many went. */
  deleteMessagesFrom(key: string, fromId: number): Promise<number>;
  /** Sessions by key prefix whose messages contain `text` and whose authors contain `author` (any case). */
  searchSessions(filter: SessionSearch): Promise<SessionInfo[]>;
  /** Deletes the session, its history, the files it owns (media owned by `key`) and its workspace link. */
  deleteSession(key: string): Promise<void>;
  appendMessages(messages: NewMessage[]): Promise<StoredMessage[]>;
  /** Oldest first. `generation` restricts to one generation (the context); `afterId` pages forward. */
  listMessages(
    key: string,
    opts?: { generation?: number; limit?: number; afterId?: number; last?: number },
  ): Promise<StoredMessage[]>;

  // ---- key-value ----
  kvGet(namespace: string, key: string): Promise<string | undefined>;
  kvSet(namespace: string, key: string, value: string, ttlMs?: number): Promise<void>;
  /** Inserts only when absent (or expired). True when this call wrote it. */
  kvSetIfAbsent(namespace: string, key: string, value: string, ttlMs?: number): Promise<boolean>;
  /**
   * Compare-and-set: replaces the value only while the live (unexpired) value is exactly `expected`; the TTL
   * is set as by kvSet. True when this call wrote it. Read-modify-write of one record (a device and its
   * tokens) retries on false, so concurrent writers, on any replica, never lose each other's change.
   */
  kvCompareAndSet(
    namespace: string,
    key: string,
    expected: string,
    value: string,
    ttlMs?: number,
  ): Promise<boolean>;
  /** Deletes and returns the value in one step (single-use tokens). */
  kvTake(namespace: string, key: string): Promise<string | undefined>;
  kvDelete(namespace: string, key: string): Promise<void>;
  kvList(
    namespace: string,
    opts?: { prefix?: string; limit?: number },
  ): Promise<{ key: string; value: string }[]>;

  // ---- media (bytes every replica can read) ----
  mediaPut(item: NewMedia): Promise<void>;
  /** The file while it has not expired. */
  mediaGet(id: string): Promise<StoredMedia | undefined>;
  mediaDelete(id: string): Promise<void>;

  // ---- retention ----
  /**
   * Deletes, at most `limit` of each: inbox and outbox items finished (done) before `finishedBefore`, and
   * expired kv entries and media. Dead-lettered items stay for an operator. Finished inbox rows are the dedup memory, so
   * `finishedBefore` must lie further back than any platform redelivers.
   */
  prune(opts: {
    finishedBefore: number;
    limit: number;
  }): Promise<{ inbox: number; outbox: number; kv: number; media: number }>;

  // ---- leases for singleton work (a poller per bot, the scheduler) ----
  /** Takes or renews the lease when free, expired or already ours. */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /**
   * Renews, in one write, those of `names` that `owner` still holds, and returns them; a lease released or taken
   * over by another owner is not taken back (it is missing from the result).
   */
  renewLeases(names: string[], owner: string, ttlMs: number): Promise<Set<string>>;
  releaseLease(name: string, owner: string): Promise<void>;
  leaseHolder(name: string): Promise<{ owner: string; until: number } | undefined>;
}

/** Exponential backoff with a cap, shared by inbox and outbox retries. */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 5 * 60_000): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.75 + Math.random() * 0.5));
}
