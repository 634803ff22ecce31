// The embedded store on node:sqlite. WAL with synchronous=FULL so a resolved enqueue survives power loss;
// inbound enqueues arriving in the same event-loop turn share one transaction (group commit), which is what
// makes durable acknowledgement cheap on the webhook hot path.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { GroupCommit } from "../group-commit.ts";
import { runMigrations } from "../migrate.ts";
import { inboxFromRow, messageFromRow, outboxFromRow, type Row, sessionFromRow } from "../rows.ts";
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

type Queue = "inbox" | "outbox";
type Retry = { retryAt: number } | { dead: true };
type ListFilter = { state?: QueueState; sessionKey?: string; limit?: number };

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
   * expired lease) that no earlier unfinished item of their lane precedes, leased to `owner`.
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
    return this.#extendLease("inbox", id, owner, leaseMs);
  }

  #extendLease(table: Queue, id: string | number, owner: string, leaseMs: number): boolean {
    const r = this.#cached(
      `UPDATE ${table} SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'leased'`,
    ).run(Date.now() + leaseMs, id, owner);
    return r.changes === 1;
  }

  async completeInbound(id: string, owner: string, effects: InboxEffects = {}): Promise<boolean> {
    const now = Date.now();
    return this.#tx(() => {
      const r = this.#cached(
        `UPDATE inbox SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = ?
           WHERE id = ? AND lease_owner = ? AND state = 'leased'`,
      ).run(now, id, owner);
      if (r.changes !== 1) return false;
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
    const r = this.#cached(
      `UPDATE ${table} SET state = ?, available_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL,
         updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'leased'`,
    ).run(dead ? "dead" : "pending", dead ? Date.now() : retry.retryAt, error, Date.now(), id, owner);
    return r.changes === 1;
  }

  async getInbound(id: string): Promise<InboxItem | undefined> {
    this.#enqueues.flush();
    const row = this.#cached(`SELECT * FROM inbox WHERE id = ?`).get(id) as Row | undefined;
    return row ? inboxFromRow(row) : undefined;
  }

  async listInbound(filter: ListFilter): Promise<InboxItem[]> {
    this.#enqueues.flush();
    return this.#list("inbox", "seq", filter).map(inboxFromRow);
  }

  /** Newest first, optionally one state and/or one lane. */
  #list(table: Queue, order: "seq" | "id", filter: ListFilter): Row[] {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (filter.state) {
      where.push("state = ?");
      args.push(filter.state);
    }
    if (filter.sessionKey) {
      where.push("session_key = ?");
      args.push(filter.sessionKey);
    }
    const sql = `SELECT * FROM ${table} ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY ${order} DESC LIMIT ?`;
    return this.#cached(sql).all(...args, filter.limit ?? 100) as Row[];
  }

  async retryInbound(id: string): Promise<boolean> {
    return this.#retryDead("inbox", id);
  }

  /** Operator action: a dead item back to pending, with a fresh attempt count. Only dead items move. */
  #retryDead(table: "inbox" | "outbox", id: string | number): boolean {
    const now = Date.now();
    const r = this.#cached(
      `UPDATE ${table} SET state = 'pending', available_at = ?, attempts = 0, updated_at = ? WHERE id = ? AND state = 'dead'`,
    ).run(now, now, id);
    return r.changes === 1;
  }

  async inboxStats(): Promise<QueueStats> {
    this.#enqueues.flush();
    return this.#stats("inbox");
  }

  #stats(table: Queue): QueueStats {
    const stats: QueueStats = { pending: 0, leased: 0, done: 0, dead: 0 };
    for (const row of this.#cached(`SELECT state, COUNT(*) AS n FROM ${table} GROUP BY state`).all() as {
      state: QueueState;
      n: number;
    }[])
      stats[row.state] = row.n;
    return stats;
  }

  // ---------------- outbox ----------------

  #enqueueOutbound(item: NewOutboxItem, now: number): { id: number; inserted: boolean } {
    const r = this.#cached(
      `INSERT OR IGNORE INTO outbox (idempotency_key, session_key, channel, account, payload, event_id,
           available_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      item.idempotencyKey,
      item.sessionKey,
      item.channel,
      item.account,
      item.payload,
      item.eventId ?? null,
      now,
      now,
      now,
    );
    if (r.changes === 1) return { id: Number(r.lastInsertRowid), inserted: true };
    const row = this.#cached(`SELECT id FROM outbox WHERE idempotency_key = ?`).get(item.idempotencyKey) as {
      id: number;
    };
    return { id: row.id, inserted: false };
  }

  async enqueueOutbound(item: NewOutboxItem): Promise<{ id: number; inserted: boolean }> {
    return this.#tx(() => this.#enqueueOutbound(item, Date.now()));
  }

  async claimOutbound(opts: ClaimOptions): Promise<OutboxItem[]> {
    return this.#claim("outbox", "id", opts).map(outboxFromRow);
  }

  async extendOutboundLease(id: number, owner: string, leaseMs: number): Promise<boolean> {
    return this.#extendLease("outbox", id, owner, leaseMs);
  }

  async completeOutbound(id: number, owner: string, result?: string): Promise<boolean> {
    const r = this.#cached(
      `UPDATE outbox SET state = 'done', result = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL,
         updated_at = ? WHERE id = ? AND lease_owner = ? AND state = 'leased'`,
    ).run(result ?? null, Date.now(), id, owner);
    return r.changes === 1;
  }

  async failOutbound(id: number, owner: string, error: string, retry: Retry): Promise<boolean> {
    return this.#fail("outbox", id, owner, error, retry);
  }

  async getOutbound(id: number): Promise<OutboxItem | undefined> {
    const row = this.#cached(`SELECT * FROM outbox WHERE id = ?`).get(id) as Row | undefined;
    return row ? outboxFromRow(row) : undefined;
  }

  async findOutboundByKey(idempotencyKey: string): Promise<OutboxItem | undefined> {
    const row = this.#cached(`SELECT * FROM outbox WHERE idempotency_key = ?`).get(idempotencyKey) as
      | Row
      | undefined;
    return row ? outboxFromRow(row) : undefined;
  }

  async listOutbound(filter: ListFilter): Promise<OutboxItem[]> {
    return this.#list("outbox", "id", filter).map(outboxFromRow);
  }

  async retryOutbound(id: number): Promise<boolean> {
    return this.#retryDead("outbox", id);
  }

  async outboxStats(): Promise<QueueStats> {
    return this.#stats("outbox");
  }

  // ---------------- sessions and history ----------------

  #ensureSession(key: string, now: number, title?: string): SessionInfo {
    this.#cached(
      `INSERT OR IGNORE INTO sessions (key, title, created_at, updated_at) VALUES (?, ?, ?, ?)`,
    ).run(key, title ?? null, now, now);
    if (title) this.#cached(`UPDATE sessions SET title = ? WHERE key = ? AND title IS NULL`).run(title, key);
    return sessionFromRow(this.#cached(`SELECT * FROM sessions WHERE key = ?`).get(key) as Row);
  }

  async getSession(key: string): Promise<SessionInfo | undefined> {
    const row = this.#cached(`SELECT * FROM sessions WHERE key = ?`).get(key) as Row | undefined;
    return row ? sessionFromRow(row) : undefined;
  }

  async touchSession(key: string, title?: string): Promise<SessionInfo> {
    // Read first: when the session exists and has its title (or none is offered) the write below would change
    // nothing, and skipping it saves a transaction and an fsync on every web chat message.
    const row = this.#cached(`SELECT * FROM sessions WHERE key = ?`).get(key) as Row | undefined;
    if (row && (!title || row.title !== null)) return sessionFromRow(row);
    return this.#tx(() => this.#ensureSession(key, Date.now(), title));
  }

  async resetSession(key: string): Promise<SessionInfo> {
    return this.#tx(() => {
      const now = Date.now();
      this.#ensureSession(key, now);
      this.#cached(`UPDATE sessions SET generation = generation + 1, updated_at = ? WHERE key = ?`).run(
        now,
        key,
      );
      return sessionFromRow(this.#cached(`SELECT * FROM sessions WHERE key = ?`).get(key) as Row);
    });
  }

  async listSessions(filter: { prefix?: string; limit?: number }): Promise<SessionInfo[]> {
    const limit = filter.limit ?? 100;
    const rows = filter.prefix
      ? this.#cached(
          `SELECT * FROM sessions WHERE substr(key, 1, ?) = ? ORDER BY updated_at DESC, key LIMIT ?`,
        ).all(filter.prefix.length, filter.prefix, limit)
      : this.#cached(`SELECT * FROM sessions ORDER BY updated_at DESC, key LIMIT ?`).all(limit);
    return (rows as Row[]).map(sessionFromRow);
  }

  async deleteSession(key: string): Promise<void> {
    this.#tx(() => {
      this.#cached(`DELETE FROM messages WHERE session_key = ?`).run(key);
      this.#cached(`DELETE FROM sessions WHERE key = ?`).run(key);
    });
  }

  #appendMessages(messages: NewMessage[]): StoredMessage[] {
    const out: StoredMessage[] = [];
    const insert = this.#cached(
      `INSERT INTO messages (session_key, generation, role, content, event_id, author, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    );
    const touch = this.#cached(`UPDATE sessions SET updated_at = ?, last_message = ? WHERE key = ?`);
    for (const m of messages) {
      const now = m.createdAt ?? Date.now();
      const session = this.#ensureSession(m.sessionKey, now);
      const row = insert.get(
        m.sessionKey,
        session.generation,
        m.role,
        m.content,
        m.eventId ?? null,
        m.author ?? null,
        now,
      ) as Row;
      touch.run(now, m.content.slice(0, 200), m.sessionKey);
      out.push(messageFromRow(row));
    }
    return out;
  }

  async appendMessages(messages: NewMessage[]): Promise<StoredMessage[]> {
    return this.#tx(() => this.#appendMessages(messages));
  }

  async listMessages(
    key: string,
    opts: { generation?: number; limit?: number; afterId?: number; last?: number } = {},
  ): Promise<StoredMessage[]> {
    const where = ["session_key = ?"];
    const args: SQLInputValue[] = [key];
    if (opts.generation !== undefined) {
      where.push("generation = ?");
      args.push(opts.generation);
    }
    if (opts.afterId !== undefined) {
      where.push("id > ?");
      args.push(opts.afterId);
    }
    const cond = where.join(" AND ");
    const rows =
      opts.last !== undefined
        ? this.#cached(
            `SELECT * FROM (SELECT * FROM messages WHERE ${cond} ORDER BY id DESC LIMIT ?) ORDER BY id`,
          ).all(...args, opts.last)
        : this.#cached(`SELECT * FROM messages WHERE ${cond} ORDER BY id LIMIT ?`).all(
            ...args,
            opts.limit ?? 1000,
          );
    return (rows as Row[]).map(messageFromRow);
  }

  // ---------------- key-value ----------------

  async kvGet(namespace: string, key: string): Promise<string | undefined> {
    const row = this.#cached(
      `SELECT value FROM kv WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ).get(namespace, key, Date.now()) as { value: string } | undefined;
    return row?.value;
  }

  #kvSet(namespace: string, key: string, value: string, ttlMs?: number) {
    this.#cached(
      `INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
    ).run(namespace, key, value, ttlMs ? Date.now() + ttlMs : null);
  }

  async kvSet(namespace: string, key: string, value: string, ttlMs?: number): Promise<void> {
    this.#kvSet(namespace, key, value, ttlMs);
  }

  async kvSetIfAbsent(namespace: string, key: string, value: string, ttlMs?: number): Promise<boolean> {
    const now = Date.now();
    const r = this.#cached(
      `INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
         WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?`,
    ).run(namespace, key, value, ttlMs ? now + ttlMs : null, now);
    return r.changes === 1;
  }

  async kvCompareAndSet(
    namespace: string,
    key: string,
    expected: string,
    value: string,
    ttlMs?: number,
  ): Promise<boolean> {
    const now = Date.now();
    const r = this.#cached(
      `UPDATE kv SET value = ?, expires_at = ?
         WHERE namespace = ? AND key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)`,
    ).run(value, ttlMs ? now + ttlMs : null, namespace, key, expected, now);
    return r.changes === 1;
  }

  async kvTake(namespace: string, key: string): Promise<string | undefined> {
    const row = this.#cached(
      `DELETE FROM kv WHERE namespace = ? AND key = ? AND (expires_at IS NULL OR expires_at > ?) RETURNING value`,
    ).get(namespace, key, Date.now()) as { value: string } | undefined;
    return row?.value;
  }

  async kvDelete(namespace: string, key: string): Promise<void> {
    this.#cached(`DELETE FROM kv WHERE namespace = ? AND key = ?`).run(namespace, key);
  }

  async kvList(
    namespace: string,
    opts: { prefix?: string; limit?: number } = {},
  ): Promise<{ key: string; value: string }[]> {
    const prefix = opts.prefix ?? "";
    return this.#cached(
      `SELECT key, value FROM kv WHERE namespace = ? AND substr(key, 1, ?) = ?
         AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?`,
    ).all(namespace, prefix.length, prefix, Date.now(), opts.limit ?? 1000) as {
      key: string;
      value: string;
    }[];
  }

  // ---------------- retention ----------------

  async prune(opts: {
    finishedBefore: number;
    limit: number;
  }): Promise<{ inbox: number; outbox: number; kv: number }> {
    this.#enqueues.flush();
    const { finishedBefore, limit } = opts;
    return this.#tx(() => ({
      inbox: Number(
        this.#cached(
          `DELETE FROM inbox WHERE seq IN
               (SELECT seq FROM inbox WHERE state = 'done' AND updated_at < ? ORDER BY seq LIMIT ?)`,
        ).run(finishedBefore, limit).changes,
      ),
      outbox: Number(
        this.#cached(
          `DELETE FROM outbox WHERE id IN
               (SELECT id FROM outbox WHERE state = 'done' AND updated_at < ? ORDER BY id LIMIT ?)`,
        ).run(finishedBefore, limit).changes,
      ),
      kv: Number(
        this.#cached(
          `DELETE FROM kv WHERE rowid IN
               (SELECT rowid FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)`,
        ).run(Date.now(), limit).changes,
      ),
    }));
  }

  // ---------------- leases ----------------

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const r = this.#cached(
      `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
         WHERE leases.owner = excluded.owner OR leases.until < ?`,
    ).run(name, owner, now + ttlMs, now);
    return r.changes === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    this.#cached(`DELETE FROM leases WHERE name = ? AND owner = ?`).run(name, owner);
  }

  async leaseHolder(name: string): Promise<{ owner: string; until: number } | undefined> {
    const row = this.#cached(`SELECT owner, until FROM leases WHERE name = ? AND until >= ?`).get(
      name,
      Date.now(),
    ) as { owner: string; until: number } | undefined;
    return row ? { owner: row.owner, until: row.until } : undefined;
  }
}
