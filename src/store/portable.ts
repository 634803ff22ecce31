// The Store methods that are one portable statement (src/store/sql.ts) and no transaction, written once for
// both stores. A store supplies how to run a statement and how to wait for its pending inbound enqueues; what
// needs a transaction (SQLite's are synchronous, PostgreSQL's hold a pooled connection) or a dialect's own
// SQL (claims, the inbound batch insert) stays in the store.

import { LANE_QUEUES, type LaneQueue, laneChanges } from "./lanes.ts";
import {
  inboxFromRow,
  mediaFromRow,
  messageFromRow,
  outboxFromRow,
  type Row,
  sessionFromRow,
} from "./rows.ts";
import type { ListFilter, MessageFilter, Queue, Sql } from "./sql.ts";
import * as SQL from "./sql.ts";
import type {
  InboxItem,
  NewMedia,
  OutboxItem,
  QueueState,
  QueueStats,
  SessionInfo,
  SessionSearch,
  StoredMedia,
  StoredMessage,
} from "./types.ts";
import { WorkspaceRows } from "./workspace-rows.ts";

type Retry = { retryAt: number } | { dead: true };

/** retryAt is the caller's clock; it becomes a delay added to the store's clock (PostgreSQL: the database's). */
function failArgs(id: string | number, owner: string, error: string, retry: Retry): unknown[] {
  const dead = "dead" in retry;
  const delay = dead ? 0 : Math.max(0, retry.retryAt - Date.now());
  return [dead ? "dead" : "pending", delay, error, Date.now(), id, owner];
}

export abstract class PortableStore {
  /** The first row the statement returns. */
  protected abstract one(q: Sql, args: unknown[]): Promise<Row | undefined>;
  protected abstract all(q: Sql, args: unknown[]): Promise<Row[]>;
  /** How many rows the statement changed. */
  protected abstract changes(q: Sql, args: unknown[]): Promise<number>;
  /** Inbound enqueues already accepted are committed, so a read right after an enqueue sees it. */
  protected abstract settled(): Promise<void>;
  /**
   * Runs a statement of `lane`'s queue that returns the lane of the row it changed (lanes.ts laneColumns) and,
   * in the same transaction, marks that lane due (src/store/lanes.ts). True when it changed one row.
   */
  protected abstract changeLane(lane: LaneQueue, q: Sql, args: unknown[]): Promise<boolean>;
  /** changeLane for a statement that may change many rows (of many lanes): every lane it names is marked due. */
  protected abstract changeLanes(lane: LaneQueue, q: Sql, args: unknown[]): Promise<number>;

  readonly workspaces = new WorkspaceRows({
    one: (q, a) => this.one(q, a),
    all: (q, a) => this.all(q, a),
    changes: (q, a) => this.changes(q, a),
  });

  async #changed(q: Sql, args: unknown[]): Promise<boolean> {
    return (await this.changes(q, args)) === 1;
  }

  // ---------------- queues ----------------

  async extendInboundLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#changed(SQL.extendLease.inbox, [leaseMs, id, owner]);
  }

  async extendOutboundLease(id: number, owner: string, leaseMs: number): Promise<boolean> {
    return this.#changed(SQL.extendLease.outbox, [leaseMs, id, owner]);
  }

  // A failure frees its lane (a retry later, or the next item at once when dead): the lane is due again.
  async failInbound(id: string, owner: string, error: string, retry: Retry): Promise<boolean> {
    return this.changeLane(LANE_QUEUES.inbox, laneChanges.inbox.fail, failArgs(id, owner, error, retry));
  }

  async failOutbound(id: number, owner: string, error: string, retry: Retry): Promise<boolean> {
    return this.changeLane(LANE_QUEUES.outbox, laneChanges.outbox.fail, failArgs(id, owner, error, retry));
  }

  // A delivered item frees its lane for the next one.
  async completeOutbound(id: number, owner: string, result?: string): Promise<boolean> {
    const args = [result ?? null, Date.now(), id, owner];
    return this.changeLane(LANE_QUEUES.outbox, laneChanges.outbox.complete, args);
  }

  async getInbound(id: string): Promise<InboxItem | undefined> {
    await this.settled();
    const row = await this.one(SQL.getById.inbox, [id]);
    return row ? inboxFromRow(row) : undefined;
  }

  async getOutbound(id: number): Promise<OutboxItem | undefined> {
    const row = await this.one(SQL.getById.outbox, [id]);
    return row ? outboxFromRow(row) : undefined;
  }

  async findOutboundByKey(idempotencyKey: string): Promise<OutboxItem | undefined> {
    const row = await this.one(SQL.outboxByKey, [idempotencyKey]);
    return row ? outboxFromRow(row) : undefined;
  }

  async listInbound(filter: ListFilter): Promise<InboxItem[]> {
    await this.settled();
    const { q, args } = SQL.listQueue("inbox", filter);
    return (await this.all(q, args)).map(inboxFromRow);
  }

  async listOutbound(filter: ListFilter): Promise<OutboxItem[]> {
    const { q, args } = SQL.listQueue("outbox", filter);
    return (await this.all(q, args)).map(outboxFromRow);
  }

  /** Operator action: a dead item back to pending, with a fresh attempt count. Only dead items move. */
  async retryInbound(id: string): Promise<boolean> {
    return this.changeLane(LANE_QUEUES.inbox, laneChanges.inbox.retryDead, [Date.now(), id]);
  }

  async retryOutbound(id: number): Promise<boolean> {
    return this.changeLane(LANE_QUEUES.outbox, laneChanges.outbox.retryDead, [Date.now(), id]);
  }

  /**
   * Operator action: a dead item finished without being processed; its error stays. No lane changes: a dead
   * item blocks nothing (lanes.ts).
   */
  async discardInbound(id: string): Promise<boolean> {
    return this.#changed(SQL.discardDead.inbox, [Date.now(), id]);
  }

  async discardOutbound(id: number): Promise<boolean> {
    return this.#changed(SQL.discardDead.outbox, [Date.now(), id]);
  }

  /** Every dead item of the queue back to pending; how many moved. */
  async retryAllDead(queue: Queue): Promise<number> {
    // Revived items need their lanes due, or no claim would look at them (src/store/lanes.ts).
    return this.changeLanes(LANE_QUEUES[queue], laneChanges[queue].retryAllDead, [Date.now()]);
  }

  async inboxStats(): Promise<QueueStats> {
    await this.settled();
    return this.#stats("inbox");
  }

  async outboxStats(): Promise<QueueStats> {
    return this.#stats("outbox");
  }

  async #stats(table: Queue): Promise<QueueStats> {
    const stats: QueueStats = { pending: 0, leased: 0, done: 0, dead: 0 };
    for (const row of await this.all(SQL.stats[table], [])) stats[row.state as QueueState] = Number(row.n);
    return stats;
  }

  // ---------------- sessions and history ----------------

  async getSession(key: string): Promise<SessionInfo | undefined> {
    const row = await this.one(SQL.getSession, [key]);
    return row ? sessionFromRow(row) : undefined;
  }

  async touchSession(key: string, title?: string): Promise<SessionInfo> {
    // Read first: on every web chat message the session usually exists with its title, and skipping the
    // no-op upsert saves a commit (an fsync or a WAL flush) on the hot path.
    const existing = await this.getSession(key);
    if (existing && (existing.title !== null || !title)) return existing;
    return sessionFromRow((await this.one(SQL.ensureSession, [key, title ?? null, Date.now()]))!);
  }

  async ensureSession(key: string, title?: string): Promise<void> {
    await this.changes(SQL.ensureSessionQuietly, [key, title || null, Date.now()]);
  }

  async sessionHistory(
    key: string,
    { title, last }: { title?: string; last: number },
  ): Promise<{ session: SessionInfo; messages: StoredMessage[] }> {
    const session = await this.touchSession(key, title);
    const messages = last > 0 ? await this.listMessages(key, { generation: session.generation, last }) : [];
    return { session, messages };
  }

  async resetSession(key: string): Promise<SessionInfo> {
    return sessionFromRow((await this.one(SQL.resetSession, [key, Date.now()]))!);
  }

  async listSessions(filter: { prefix?: string; limit?: number }): Promise<SessionInfo[]> {
    const limit = filter.limit ?? 100;
    const rows = filter.prefix
      ? await this.all(SQL.listSessionsByPrefix, [filter.prefix, limit])
      : await this.all(SQL.listSessions, [limit]);
    return rows.map(sessionFromRow);
  }

  async renameSession(key: string, title: string | null): Promise<SessionInfo | undefined> {
    const row = await this.one(SQL.renameSession, [key, title]);
    return row ? sessionFromRow(row) : undefined;
  }

  async deleteMessagesFrom(key: string, fromId: number): Promise<number> {
    return this.changes(SQL.deleteMessagesFrom, [key, fromId]);
  }

  async searchSessions(filter: SessionSearch): Promise<SessionInfo[]> {
    const like = (text?: string) => (text ? `%${text.toLowerCase().replace(/[\\%_]/g, "\\$&")}%` : "");
    const args = [filter.prefix ?? "", like(filter.text), like(filter.author), filter.limit ?? 50];
    return (await this.all(SQL.searchSessions, args)).map(sessionFromRow);
  }

  async listMessages(key: string, opts: MessageFilter = {}): Promise<StoredMessage[]> {
    const { q, args } = SQL.listMessages(key, opts);
    return (await this.all(q, args)).map(messageFromRow);
  }

  // ---------------- key-value ----------------

  // ---------------- media ----------------

  async mediaPut(m: NewMedia): Promise<void> {
    await this.changes(SQL.mediaPut, [
      m.id,
      m.owner,
      m.mime,
      m.name ?? null,
      m.bytes.length,
      m.bytes,
      Date.now(),
      m.expiresAt,
    ]);
  }

  async mediaGet(id: string): Promise<StoredMedia | undefined> {
    const row = await this.one(SQL.mediaGet, [id]);
    return row ? mediaFromRow(row) : undefined;
  }

  async mediaDelete(id: string): Promise<void> {
    await this.changes(SQL.mediaDelete, [id]);
  }

  async kvGet(namespace: string, key: string): Promise<string | undefined> {
    return (await this.one(SQL.kvGet, [namespace, key]))?.value as string | undefined;
  }

  async kvSet(namespace: string, key: string, value: string, ttlMs?: number): Promise<void> {
    await this.changes(SQL.kvSet, [namespace, key, value, ttlMs || null]);
  }

  async kvSetIfAbsent(namespace: string, key: string, value: string, ttlMs?: number): Promise<boolean> {
    return this.#changed(SQL.kvSetIfAbsent, [namespace, key, value, ttlMs || null]);
  }

  async kvCompareAndSet(
    namespace: string,
    key: string,
    expected: string,
    value: string,
    ttlMs?: number,
  ): Promise<boolean> {
    return this.#changed(SQL.kvCompareAndSet, [namespace, key, expected, ttlMs || null, value]);
  }

  async kvTake(namespace: string, key: string): Promise<string | undefined> {
    return (await this.one(SQL.kvTake, [namespace, key]))?.value as string | undefined;
  }

  async kvDelete(namespace: string, key: string): Promise<void> {
    await this.changes(SQL.kvDelete, [namespace, key]);
  }

  async kvList(
    namespace: string,
    opts: { prefix?: string; limit?: number } = {},
  ): Promise<{ key: string; value: string }[]> {
    const rows = await this.all(SQL.kvList, [namespace, opts.prefix ?? "", opts.limit ?? 1000]);
    return rows.map((r) => ({ key: String(r.key), value: String(r.value) }));
  }

  // ---------------- leases ----------------

  /** One statement, so two replicas racing for a free or expired lease cannot both win. */
  async acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#changed(SQL.acquireLease, [name, owner, ttlMs]);
  }

  async renewLeases(names: string[], owner: string, ttlMs: number): Promise<Set<string>> {
    const unique = new Set(names);
    if (unique.size === 0) return unique;
    const keys = JSON.stringify(Object.fromEntries([...unique].map((n) => [n, 1])));
    if ((await this.changes(SQL.renewLeases, [keys, owner, ttlMs])) === unique.size) return unique;
    // Some were not ours any more (rare: a lease is being lost). Every one still ours was just renewed.
    const rows = await this.all(SQL.heldLeases, [keys, owner]);
    return new Set(rows.map((r) => String(r.name)));
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.changes(SQL.releaseLease, [name, owner]);
  }

  async leaseHolder(name: string): Promise<{ owner: string; until: number } | undefined> {
    const row = await this.one(SQL.leaseHolder, [name]);
    return row ? { owner: String(row.owner), until: Number(row.until) } : undefined;
  }
}
