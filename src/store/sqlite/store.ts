// The embedded store on node:sqlite. WAL with synchronous=FULL so a resolved enqueue survives power loss;
// inbound enqueues arriving in the same event-loop turn share one transaction (group commit), which is what
// makes durable acknowledgement cheap on the webhook hot path.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { GroupCommit } from "../group-commit.ts";
import { runMigrations } from "../migrate.ts";
import { inboxFromRow, messageFromRow, outboxFromRow, type Row, sessionFromRow } from "../rows.ts";
import type { ListFilter, MessageFilter, Queue, Sql } from "../sql.ts";
import * as SQL from "../sql.ts";
import type {
  ClaimOptions,
  InboxEffects,
  InboxItem,
  NewInboxItem,
  NewMessage,
  NewOutboxItem,
  OutboxItem,
  QueueState,
  QueueStats,
  SessionInfo,
  Store,
  StoredMessage,
} from "../types.ts";
import { sqliteMigrations } from "./migrations.ts";

type Retry = { retryAt: number } | { dead: true };
type Arg = SQLInputValue;

export interface SqliteStoreOptions {
  /** "FULL" (default) survives power loss; "NORMAL" survives process crashes only. */
  synchronous?: "FULL" | "NORMAL";
}

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #enqueues = new GroupCommit<NewInboxItem, "inserted" | "duplicate">((items) =>
    this.#insertInbound(items),
  );
  #closed = false;
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.path = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;`);
    this.#db.exec(`PRAGMA synchronous = ${opts.synchronous ?? "FULL"};`);
  }

  async migrate(): Promise<void> {
    await runMigrations(
      {
        // One BEGIN IMMEDIATE transaction: a second process on the same file waits, then finds nothing to do.
        // Nothing else uses this connection before migrate() resolves, so awaiting inside it is safe.
        exclusive: async (fn) => {
          this.#db.exec("BEGIN IMMEDIATE");
          try {
            const out = await fn({
              currentVersion: async () => {
                this.#db.exec(
                  `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER)`,
                );
                const row = this.#db.prepare(`SELECT MAX(version) AS v FROM schema_migrations`).get();
                return Number(row?.v ?? 0);
              },
              apply: async (sql) => this.#db.exec(sql),
              record: async (version) => {
                this.#db
                  .prepare(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`)
                  .run(version, Date.now());
              },
            });
            this.#db.exec("COMMIT");
            return out;
          } catch (err) {
            this.#db.exec("ROLLBACK");
            throw err;
          }
        },
      },
      sqliteMigrations,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#enqueues.flush();
    this.#closed = true;
    this.#db.close();
  }

  async ping(): Promise<void> {
    this.#cached("SELECT 1").get();
  }

  /** Prepared once, then reused: on the per-request hot path compiling a statement costs more than running it. */
  #cached(sql: string): StatementSync {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.#db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  /** A shared statement (src/store/sql.ts) in SQLite's spelling, with the clock bound last when it reads it. */
  #q(q: Sql, args: Arg[]): [StatementSync, Arg[]] {
    const { text, now } = SQL.sqliteText(q);
    return [this.#cached(text), now ? [...args, Date.now()] : args];
  }

  #run(q: Sql, ...args: Arg[]): number {
    const [stmt, values] = this.#q(q, args);
    return Number(stmt.run(...values).changes);
  }

  #get(q: Sql, ...args: Arg[]): Row | undefined {
    const [stmt, values] = this.#q(q, args);
    return stmt.get(...values) as Row | undefined;
  }

  #all(q: Sql, ...args: Arg[]): Row[] {
    const [stmt, values] = this.#q(q, args);
    return stmt.all(...values) as Row[];
  }

  // BEGIN IMMEDIATE takes the write lock up front, so two processes on one file never deadlock upgrading.
  #tx<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const out = fn();
      this.#db.exec("COMMIT");
      return out;
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  // ---------------- inbox ----------------

  enqueueInbound(item: NewInboxItem): Promise<"inserted" | "duplicate"> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return this.#enqueues.add(item);
  }

  // Row by row inside the group commit's one transaction: with a single in-process writer, a statement costs
  // microseconds and only the COMMIT's fsync is worth sharing (PostgreSQL instead sends the batch as one statement).
  #insertInbound(items: NewInboxItem[]): ("inserted" | "duplicate")[] {
    const now = Date.now();
    return this.#tx(() => {
      const stmt = this.#cached(
        `INSERT OR IGNORE INTO inbox (id, session_key, payload, received_at, available_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
      );
      return items.map((it) =>
        stmt.run(it.id, it.sessionKey, it.payload, it.receivedAt, now, now).changes === 1
          ? ("inserted" as const)
          : ("duplicate" as const),
      );
    });
  }

  async claimInbound(opts: ClaimOptions): Promise<InboxItem[]> {
    this.#enqueues.flush();
    // The inbox has no channel column: a channel list in opts does not apply to it.
    return this.#claim("inbox", "seq", { ...opts, channels: undefined }).map(inboxFromRow);
  }

  /**
   * One claim transaction for either queue: the first `limit` ready items (pending and due, or leased with an
   * expired lease) that no earlier unfinished item of their lane precedes, leased to `owner`. SQLite has one
   * writer at a time (BEGIN IMMEDIATE), so the read and the leases cannot race another claimer; PostgreSQL's
   * claim needs row and lane locks for that and is written separately.
   */
  #claim(table: Queue, key: "seq" | "id", { owner, leaseMs, limit, channels }: ClaimOptions): Row[] {
    const now = Date.now();
    const channelFilter = channels ? `AND i.channel IN (${channels.map(() => "?").join(",") || "''"})` : "";
    return this.#tx(() => {
      const rows = this.#cached(
        `SELECT i.${key} AS k FROM ${table} i
           WHERE i.state IN ('pending', 'leased')
             AND ((i.state = 'pending' AND i.available_at <= ?) OR (i.state = 'leased' AND i.lease_until < ?))
             ${channelFilter}
             AND NOT EXISTS (SELECT 1 FROM ${table} j WHERE j.session_key = i.session_key
                             AND j.${key} < i.${key} AND j.state IN ('pending', 'leased'))
           ORDER BY i.${key} LIMIT ?`,
      ).all(now, now, ...(channels ?? []), limit) as { k: number }[];
      const update = this.#cached(
        `UPDATE ${table} SET state = 'leased', lease_owner = ?, lease_until = ?, attempts = attempts + 1,
         updated_at = ? WHERE ${key} = ? RETURNING *`,
      );
      return rows.map((r) => update.get(owner, now + leaseMs, now, r.k) as Row);
    });
  }

  async extendInboundLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#run(SQL.extendLease.inbox, leaseMs, id, owner) === 1;
  }

  async completeInbound(id: string, owner: string, effects: InboxEffects = {}): Promise<boolean> {
    const now = Date.now();
    return this.#tx(() => {
      if (this.#run(SQL.completeInbound, now, id, owner) !== 1) return false;
      if (effects.messages?.length) this.#appendMessages(effects.messages);
      for (const o of effects.outbox ?? []) this.#enqueueOutbound(o, now);
      for (const kv of effects.kv ?? []) this.#kvSet(kv.namespace, kv.key, kv.value, kv.ttlMs);
      return true;
    });
  }

  async failInbound(id: string, owner: string, error: string, retry: Retry): Promise<boolean> {
    return this.#fail("inbox", id, owner, error, retry);
  }

  #fail(table: Queue, id: string | number, owner: string, error: string, retry: Retry): boolean {
    const dead = "dead" in retry;
    const delay = dead ? 0 : Math.max(0, retry.retryAt - Date.now());
    return this.#run(SQL.fail[table], dead ? "dead" : "pending", delay, error, Date.now(), id, owner) === 1;
  }

  async getInbound(id: string): Promise<InboxItem | undefined> {
    this.#enqueues.flush();
    const row = this.#get(SQL.getById.inbox, id);
    return row ? inboxFromRow(row) : undefined;
  }

  async listInbound(filter: ListFilter): Promise<InboxItem[]> {
    this.#enqueues.flush();
    const { q, args } = SQL.listQueue("inbox", filter);
    return this.#all(q, ...args).map(inboxFromRow);
  }

  async retryInbound(id: string): Promise<boolean> {
    return this.#run(SQL.retryDead.inbox, Date.now(), id) === 1;
  }

  async inboxStats(): Promise<QueueStats> {
    this.#enqueues.flush();
    return this.#stats("inbox");
  }

  #stats(table: Queue): QueueStats {
    const stats: QueueStats = { pending: 0, leased: 0, done: 0, dead: 0 };
    for (const row of this.#all(SQL.stats[table])) stats[row.state as QueueState] = Number(row.n);
    return stats;
  }

  // ---------------- outbox ----------------

  #enqueueOutbound(item: NewOutboxItem, now: number): { id: number; inserted: boolean } {
    const { idempotencyKey: key, sessionKey, channel, account, payload, eventId } = item;
    const row = this.#get(
      SQL.enqueueOutbound,
      key,
      sessionKey,
      channel,
      account,
      payload,
      eventId ?? null,
      now,
    );
    if (row) return { id: Number(row.id), inserted: true };
    return { id: Number(this.#get(SQL.outboxIdByKey, key)!.id), inserted: false };
  }

  async enqueueOutbound(item: NewOutboxItem): Promise<{ id: number; inserted: boolean }> {
    return this.#tx(() => this.#enqueueOutbound(item, Date.now()));
  }

  async claimOutbound(opts: ClaimOptions): Promise<OutboxItem[]> {
    return this.#claim("outbox", "id", opts).map(outboxFromRow);
  }

  async extendOutboundLease(id: number, owner: string, leaseMs: number): Promise<boolean> {
    return this.#run(SQL.extendLease.outbox, leaseMs, id, owner) === 1;
  }

  async completeOutbound(id: number, owner: string, result?: string): Promise<boolean> {
    return this.#run(SQL.completeOutbound, result ?? null, Date.now(), id, owner) === 1;
  }

  async failOutbound(id: number, owner: string, error: string, retry: Retry): Promise<boolean> {
    return this.#fail("outbox", id, owner, error, retry);
  }

  async getOutbound(id: number): Promise<OutboxItem | undefined> {
    const row = this.#get(SQL.getById.outbox, id);
    return row ? outboxFromRow(row) : undefined;
  }

  async findOutboundByKey(idempotencyKey: string): Promise<OutboxItem | undefined> {
    const row = this.#get(SQL.outboxByKey, idempotencyKey);
    return row ? outboxFromRow(row) : undefined;
  }

  async listOutbound(filter: ListFilter): Promise<OutboxItem[]> {
    const { q, args } = SQL.listQueue("outbox", filter);
    return this.#all(q, ...args).map(outboxFromRow);
  }

  async retryOutbound(id: number): Promise<boolean> {
    return this.#run(SQL.retryDead.outbox, Date.now(), id) === 1;
  }

  async outboxStats(): Promise<QueueStats> {
    return this.#stats("outbox");
  }

  // ---------------- sessions and history ----------------

  async getSession(key: string): Promise<SessionInfo | undefined> {
    const row = this.#get(SQL.getSession, key);
    return row ? sessionFromRow(row) : undefined;
  }

  async touchSession(key: string, title?: string): Promise<SessionInfo> {
    // Read first: when the session exists and has its title (or none is offered) the write below would change
    // nothing, and skipping it saves a transaction and an fsync on every web chat message.
    const row = this.#get(SQL.getSession, key);
    if (row && (!title || row.title !== null)) return sessionFromRow(row);
    return sessionFromRow(this.#get(SQL.ensureSession, key, title ?? null, Date.now())!);
  }

  async resetSession(key: string): Promise<SessionInfo> {
    return sessionFromRow(this.#get(SQL.resetSession, key, Date.now())!);
  }

  async listSessions(filter: { prefix?: string; limit?: number }): Promise<SessionInfo[]> {
    const limit = filter.limit ?? 100;
    const rows = filter.prefix
      ? this.#all(SQL.listSessionsByPrefix, filter.prefix, limit)
      : this.#all(SQL.listSessions, limit);
    return rows.map(sessionFromRow);
  }

  async deleteSession(key: string): Promise<void> {
    this.#tx(() => {
      this.#run(SQL.deleteMessages, key);
      this.#run(SQL.deleteSession, key);
    });
  }

  #appendMessages(messages: NewMessage[]): StoredMessage[] {
    return messages.map((m) => {
      const now = m.createdAt ?? Date.now();
      const { generation } = this.#get(SQL.touchForMessage, m.sessionKey, now, m.content.slice(0, 200))!;
      const { sessionKey, role, content, eventId, author } = m;
      const row = this.#get(
        SQL.insertMessage,
        sessionKey,
        Number(generation),
        role,
        content,
        eventId ?? null,
        author ?? null,
        now,
      );
      return messageFromRow(row!);
    });
  }

  async appendMessages(messages: NewMessage[]): Promise<StoredMessage[]> {
    return this.#tx(() => this.#appendMessages(messages));
  }

  async listMessages(key: string, opts: MessageFilter = {}): Promise<StoredMessage[]> {
    const { q, args } = SQL.listMessages(key, opts);
    return this.#all(q, ...args).map(messageFromRow);
  }

  // ---------------- key-value ----------------

  async kvGet(namespace: string, key: string): Promise<string | undefined> {
    return this.#get(SQL.kvGet, namespace, key)?.value as string | undefined;
  }

  #kvSet(namespace: string, key: string, value: string, ttlMs?: number) {
    this.#run(SQL.kvSet, namespace, key, value, ttlMs || null);
  }

  async kvSet(namespace: string, key: string, value: string, ttlMs?: number): Promise<void> {
    this.#kvSet(namespace, key, value, ttlMs);
  }

  async kvSetIfAbsent(namespace: string, key: string, value: string, ttlMs?: number): Promise<boolean> {
    return this.#run(SQL.kvSetIfAbsent, namespace, key, value, ttlMs || null) === 1;
  }

  async kvCompareAndSet(
    namespace: string,
    key: string,
    expected: string,
    value: string,
    ttlMs?: number,
  ): Promise<boolean> {
    return this.#run(SQL.kvCompareAndSet, namespace, key, expected, ttlMs || null, value) === 1;
  }

  async kvTake(namespace: string, key: string): Promise<string | undefined> {
    return this.#get(SQL.kvTake, namespace, key)?.value as string | undefined;
  }

  async kvDelete(namespace: string, key: string): Promise<void> {
    this.#run(SQL.kvDelete, namespace, key);
  }

  async kvList(
    namespace: string,
    opts: { prefix?: string; limit?: number } = {},
  ): Promise<{ key: string; value: string }[]> {
    const rows = this.#all(SQL.kvList, namespace, opts.prefix ?? "", opts.limit ?? 1000);
    return rows.map((r) => ({ key: String(r.key), value: String(r.value) }));
  }

  // ---------------- retention ----------------

  async prune(opts: {
    finishedBefore: number;
    limit: number;
  }): Promise<{ inbox: number; outbox: number; kv: number }> {
    this.#enqueues.flush();
    const { finishedBefore, limit } = opts;
    return this.#tx(() => ({
      inbox: this.#run(SQL.pruneInbox, finishedBefore, limit),
      outbox: this.#run(SQL.pruneOutbox, finishedBefore, limit),
      kv: this.#run(SQL.pruneKv, limit),
    }));
  }

  // ---------------- leases ----------------

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.#run(SQL.acquireLease, name, owner, ttlMs) === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.#run(SQL.releaseLease, name, owner);
  }

  async leaseHolder(name: string): Promise<{ owner: string; until: number } | undefined> {
    const row = this.#get(SQL.leaseHolder, name);
    return row ? { owner: String(row.owner), until: Number(row.until) } : undefined;
  }
}
