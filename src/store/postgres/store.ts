// The shared store on PostgreSQL, for several gateway replicas behind a load balancer. PostgreSQL is the only
// coordinator: dedup is the inbox's primary key, claims are row leases taken with FOR UPDATE SKIP LOCKED under
// a per-lane advisory lock, singletons are rows in `leases`. Every time that decides who may do what is read
// from the database clock (NOW_MS), so replicas whose clocks disagree never both think they hold a lease.
import pg from "pg";
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
import { postgresMigrations } from "./migrations.ts";

type Queryable = pg.Pool | pg.PoolClient;

/** The database clock in epoch milliseconds (transaction start: stable within one claim). */
const NOW_MS = "(extract(epoch from now()) * 1000)::bigint";

/** Advisory-lock namespaces (first key of the two-int form); the second key is hashtext(session_key). */
const MIGRATION_LOCK = 0x636c6177; // "claw"
const INBOX_LANE_LOCK = 0x636c6701;
const OUTBOX_LANE_LOCK = 0x636c6702;

export interface PostgresStoreOptions {
  /** Connections in this replica's pool (default 10, or `pool_max` in the URL's query). */
  max?: number;
  /** Use this schema instead of `public` (several installs, or tests, in one database). */
  schema?: string;
  /** Told about errors on idle connections (the pool reconnects on its own). */
  onError?: (err: Error) => void;
}

export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  readonly #pool: pg.Pool;
  readonly #schema: string | undefined;
  readonly #enqueues = new GroupCommit<NewInboxItem, "inserted" | "duplicate">((items) =>
    this.#insertInbound(items),
  );
  #closed = false;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    const parsed = new URL(url);
    const poolMax = Number(parsed.searchParams.get("pool_max") ?? "");
    const schema = opts.schema ?? parsed.searchParams.get("schema") ?? undefined;
    parsed.searchParams.delete("pool_max");
    parsed.searchParams.delete("schema");
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw new Error(`database schema "${schema}" must be a lower-case SQL identifier (a-z, 0-9, _)`);
    }
    this.#schema = schema;
    this.#pool = new pg.Pool({
      connectionString: parsed.toString(),
      max: opts.max ?? (Number.isInteger(poolMax) && poolMax > 0 ? poolMax : 10),
      application_name: "clawgate",
      options: schema ? `-c search_path=${schema}` : undefined,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection dying (server restart, network) must not crash the process; the next query reconnects.
    this.#pool.on("error", (err) => opts.onError?.(err));
  }

  async migrate(): Promise<void> {
    // Replicas starting together: the advisory lock makes one of them apply the migrations while the others
    // wait, then find nothing left to do. DDL is transactional in PostgreSQL, so a failed step leaves nothing.
    await runMigrations(
      {
        exclusive: (fn) =>
          this.#tx(async (c) => {
            await c.query(`SELECT pg_advisory_xact_lock($1, 0)`, [MIGRATION_LOCK]);
            if (this.#schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
            return fn({
              currentVersion: async () => {
                await c.query(
                  `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
                );
                const { rows } = await c.query(
                  `SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations`,
                );
                return Number(rows[0].v);
              },
              apply: async (sql) => void (await c.query(sql)),
              record: async (version) =>
                void (await c.query(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, [
                  version,
                  Date.now(),
                ])),
            });
          }),
      },
      postgresMigrations,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#enqueues.settled();
    await this.#pool.end();
  }

  async ping(): Promise<void> {
    await this.#pool.query("SELECT 1");
  }

  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query("BEGIN");
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (err) {
      await c.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  // ---------------- inbox ----------------

  /**
   * Group commit: enqueues arriving in the same event-loop turn go out as one INSERT … ON CONFLICT DO NOTHING
   * RETURNING id, a single autocommitted statement, so each promise resolves only after COMMIT.
   */
  enqueueInbound(item: NewInboxItem): Promise<"inserted" | "duplicate"> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return this.#enqueues.add(item);
  }

  async #insertInbound(batch: NewInboxItem[]): Promise<("inserted" | "duplicate")[]> {
    // The same id twice in one batch: the first occurrence decides, the others are duplicates.
    const unique = new Map<string, NewInboxItem>();
    for (const item of batch) if (!unique.has(item.id)) unique.set(item.id, item);
    const items = [...unique.values()];
    const now = Date.now();
    const { rows } = await this.#pool.query(
      `INSERT INTO inbox (id, session_key, payload, received_at, available_at, updated_at)
       SELECT t.id, t.session_key, t.payload, t.received_at, ${NOW_MS}, $5
       FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
         WITH ORDINALITY AS t(id, session_key, payload, received_at, ord)
       ORDER BY t.ord
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [
        items.map((i) => i.id),
        items.map((i) => i.sessionKey),
        items.map((i) => i.payload),
        items.map((i) => i.receivedAt),
        now,
      ],
    );
    const inserted = new Set(rows.map((r) => r.id as string));
    return batch.map((item) => (inserted.delete(item.id) ? "inserted" : "duplicate"));
  }

  /** Waits for enqueues already accepted, so a read right after an enqueue sees it. */
  #settled() {
    return this.#enqueues.settled();
  }

  async claimInbound(opts: ClaimOptions): Promise<InboxItem[]> {
    await this.#settled();
    const rows = await this.#claim("inbox", "seq", INBOX_LANE_LOCK, opts);
    return rows.map(inboxFromRow).sort((a, b) => a.seq - b.seq);
  }

  /**
   * One claim transaction for either queue. An item is claimable when it is ready (pending and due, or leased
   * with an expired lease), no earlier item of its lane is unfinished, and no other item of its lane holds a
   * live lease. FOR UPDATE SKIP LOCKED alone only stops two claimers taking the same row; it cannot stop two
   * claimers taking two different rows of one lane when their snapshots disagree about the lane (e.g. an
   * operator revives a dead earlier item while another replica is leasing the later one). So:
   *  1. lock candidate rows FOR UPDATE SKIP LOCKED (so concurrent claimers spread over different rows
   *     instead of fighting over the first ones) and take a transaction-scoped advisory lock per lane
   *     (try-lock: a lane another replica is claiming right now is skipped this round; a hash collision
   *     between two lanes only delays one of them to the next round);
   *  2. in a second statement — a fresh snapshot taken after the lane locks, so it sees every earlier claim
   *     of those lanes committed — re-check the rule on the locked rows and lease them. Nothing here waits
   *     on a lock, so claims never deadlock.
   */
  async #claim(
    table: "inbox" | "outbox",
    key: "seq" | "id",
    lockSpace: number,
    opts: ClaimOptions,
  ): Promise<Row[]> {
    const channels = table === "outbox" ? (opts.channels ?? null) : null;
    if (opts.limit <= 0 || channels?.length === 0) return [];
    // $1 is always the channel list (NULL: every channel; the inbox has no channel column), so both
    // statements share the condition text.
    const channelCond =
      table === "outbox" ? "($1::text[] IS NULL OR i.channel = ANY($1::text[]))" : "$1::text[] IS NULL";
    const claimable = `
      i.state IN ('pending', 'leased')
      AND ((i.state = 'pending' AND i.available_at <= ${NOW_MS})
           OR (i.state = 'leased' AND i.lease_until < ${NOW_MS}))
      AND ${channelCond}
      AND NOT EXISTS (
        SELECT 1 FROM ${table} j
        WHERE j.session_key = i.session_key AND j.state IN ('pending', 'leased')
          AND (j.${key} < i.${key} OR (j.${key} <> i.${key} AND j.state = 'leased' AND j.lease_until >= ${NOW_MS})))`;
    return this.#tx(async (c) => {
      const candidates = await c.query(
        `WITH candidates AS MATERIALIZED (
           SELECT i.session_key, i.${key} AS k FROM ${table} i WHERE ${claimable}
           ORDER BY i.${key} LIMIT $2 FOR UPDATE OF i SKIP LOCKED
         )
         SELECT k FROM candidates WHERE pg_try_advisory_xact_lock($3::int, hashtext(session_key))`,
        [channels, opts.limit, lockSpace],
      );
      if (candidates.rows.length === 0) return [];
      const { rows } = await c.query(
        `UPDATE ${table} i SET state = 'leased', lease_owner = $2, lease_until = ${NOW_MS} + $3,
           attempts = i.attempts + 1, updated_at = $4
         WHERE i.${key} = ANY($5::bigint[]) AND ${claimable}
         RETURNING i.*`,
        [channels, opts.owner, opts.leaseMs, Date.now(), candidates.rows.map((r) => r.k)],
      );
      return rows;
    });
  }

  async extendInboundLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    return this.#extendLease("inbox", id, owner, leaseMs);
  }

  async extendOutboundLease(id: number, owner: string, leaseMs: number): Promise<boolean> {
    return this.#extendLease("outbox", id, owner, leaseMs);
  }

  async #extendLease(table: "inbox" | "outbox", id: string | number, owner: string, leaseMs: number) {
    const r = await this.#pool.query(
      `UPDATE ${table} SET lease_until = ${NOW_MS} + $1 WHERE id = $2 AND lease_owner = $3 AND state = 'leased'`,
      [leaseMs, id, owner],
    );
    return r.rowCount === 1;
  }

  async completeInbound(id: string, owner: string, effects: InboxEffects = {}): Promise<boolean> {
    const now = Date.now();
    return this.#tx(async (c) => {
      const r = await c.query(
        `UPDATE inbox SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $1
         WHERE id = $2 AND lease_owner = $3 AND state = 'leased'`,
        [now, id, owner],
      );
      if (r.rowCount !== 1) return false;
      if (effects.messages?.length) await this.#appendMessages(c, effects.messages);
      for (const o of effects.outbox ?? []) await this.#enqueueOutbound(c, o, now);
      for (const kv of effects.kv ?? []) await this.#kvSet(c, kv.namespace, kv.key, kv.value, kv.ttlMs);
      return true;
    });
  }

  async failInbound(
    id: string,
    owner: string,
    error: string,
    retry: { retryAt: number } | { dead: true },
  ): Promise<boolean> {
    return this.#fail("inbox", id, owner, error, retry);
  }

  /** retryAt is the caller's clock; it is turned into a delay and added to the database clock. */
  async #fail(
    table: "inbox" | "outbox",
    id: string | number,
    owner: string,
    error: string,
    retry: { retryAt: number } | { dead: true },
  ): Promise<boolean> {
    const dead = "dead" in retry;
    const delay = dead ? 0 : Math.max(0, retry.retryAt - Date.now());
    const r = await this.#pool.query(
      `UPDATE ${table} SET state = $1, available_at = ${NOW_MS} + $2, last_error = $3, lease_owner = NULL,
         lease_until = NULL, updated_at = $4
       WHERE id = $5 AND lease_owner = $6 AND state = 'leased'`,
      [dead ? "dead" : "pending", delay, error, Date.now(), id, owner],
    );
    return r.rowCount === 1;
  }

  async getInbound(id: string): Promise<InboxItem | undefined> {
    await this.#settled();
    const { rows } = await this.#pool.query(`SELECT * FROM inbox WHERE id = $1`, [id]);
    return rows[0] ? inboxFromRow(rows[0]) : undefined;
  }

  async listInbound(filter: {
    state?: QueueState;
    sessionKey?: string;
    limit?: number;
  }): Promise<InboxItem[]> {
    await this.#settled();
    const { sql, args } = listQuery("inbox", "seq", filter);
    const { rows } = await this.#pool.query(sql, args);
    return rows.map(inboxFromRow);
  }

  async retryInbound(id: string): Promise<boolean> {
    return this.#retryDead("inbox", id);
  }

  /** Operator action: a dead item back to pending, with a fresh attempt count. Only dead items move. */
  async #retryDead(table: "inbox" | "outbox", id: string | number): Promise<boolean> {
    const r = await this.#pool.query(
      `UPDATE ${table} SET state = 'pending', available_at = ${NOW_MS}, attempts = 0, updated_at = $1
       WHERE id = $2 AND state = 'dead'`,
      [Date.now(), id],
    );
    return r.rowCount === 1;
  }

  async inboxStats(): Promise<QueueStats> {
    await this.#settled();
    return this.#stats("inbox");
  }

  async #stats(table: "inbox" | "outbox"): Promise<QueueStats> {
    const stats: QueueStats = { pending: 0, leased: 0, done: 0, dead: 0 };
    const { rows } = await this.#pool.query(`SELECT state, COUNT(*) AS n FROM ${table} GROUP BY state`);
    for (const row of rows) stats[row.state as QueueState] = Number(row.n);
    return stats;
  }

  // ---------------- outbox ----------------

  async #enqueueOutbound(
    c: Queryable,
    item: NewOutboxItem,
    now: number,
  ): Promise<{ id: number; inserted: boolean }> {
    const ins = await c.query(
      `INSERT INTO outbox (idempotency_key, session_key, channel, account, payload, event_id,
         available_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, ${NOW_MS}, $7, $7)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
      [
        item.idempotencyKey,
        item.sessionKey,
        item.channel,
        item.account,
        item.payload,
        item.eventId ?? null,
        now,
      ],
    );
    if (ins.rows[0]) return { id: Number(ins.rows[0].id), inserted: true };
    const { rows } = await c.query(`SELECT id FROM outbox WHERE idempotency_key = $1`, [item.idempotencyKey]);
    return { id: Number(rows[0].id), inserted: false };
  }

  async enqueueOutbound(item: NewOutboxItem): Promise<{ id: number; inserted: boolean }> {
    return this.#enqueueOutbound(this.#pool, item, Date.now());
  }

  async claimOutbound(opts: ClaimOptions): Promise<OutboxItem[]> {
    const rows = await this.#claim("outbox", "id", OUTBOX_LANE_LOCK, opts);
    return rows.map(outboxFromRow).sort((a, b) => a.id - b.id);
  }

  async completeOutbound(id: number, owner: string, result?: string): Promise<boolean> {
    const r = await this.#pool.query(
      `UPDATE outbox SET state = 'done', result = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL,
         updated_at = $2 WHERE id = $3 AND lease_owner = $4 AND state = 'leased'`,
      [result ?? null, Date.now(), id, owner],
    );
    return r.rowCount === 1;
  }

  async failOutbound(
    id: number,
    owner: string,
    error: string,
    retry: { retryAt: number } | { dead: true },
  ): Promise<boolean> {
    return this.#fail("outbox", id, owner, error, retry);
  }

  async getOutbound(id: number): Promise<OutboxItem | undefined> {
    const { rows } = await this.#pool.query(`SELECT * FROM outbox WHERE id = $1`, [id]);
    return rows[0] ? outboxFromRow(rows[0]) : undefined;
  }

  async findOutboundByKey(idempotencyKey: string): Promise<OutboxItem | undefined> {
    const { rows } = await this.#pool.query(`SELECT * FROM outbox WHERE idempotency_key = $1`, [
      idempotencyKey,
    ]);
    return rows[0] ? outboxFromRow(rows[0]) : undefined;
  }

  async listOutbound(filter: {
    state?: QueueState;
    sessionKey?: string;
    limit?: number;
  }): Promise<OutboxItem[]> {
    const { sql, args } = listQuery("outbox", "id", filter);
    const { rows } = await this.#pool.query(sql, args);
    return rows.map(outboxFromRow);
  }

  async retryOutbound(id: number): Promise<boolean> {
    return this.#retryDead("outbox", id);
  }

  async outboxStats(): Promise<QueueStats> {
    return this.#stats("outbox");
  }

  // ---------------- sessions and history ----------------

  async #ensureSession(c: Queryable, key: string, now: number, title?: string): Promise<SessionInfo> {
    // One statement: create if missing, set the title only when there is none, return the row either way.
    const { rows } = await c.query(
      `INSERT INTO sessions (key, title, created_at, updated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (key) DO UPDATE SET title = COALESCE(sessions.title, EXCLUDED.title)
       RETURNING *`,
      [key, title ?? null, now],
    );
    return sessionFromRow(rows[0]);
  }

  async getSession(key: string): Promise<SessionInfo | undefined> {
    const { rows } = await this.#pool.query(`SELECT * FROM sessions WHERE key = $1`, [key]);
    return rows[0] ? sessionFromRow(rows[0]) : undefined;
  }

  async touchSession(key: string, title?: string): Promise<SessionInfo> {
    // Read first: on every web chat message the session usually exists with its title, and skipping the
    // no-op upsert saves a commit (a WAL flush) on the hot path.
    const existing = await this.getSession(key);
    if (existing && (existing.title !== null || !title)) return existing;
    return this.#ensureSession(this.#pool, key, Date.now(), title);
  }

  async resetSession(key: string): Promise<SessionInfo> {
    const now = Date.now();
    const { rows } = await this.#pool.query(
      `INSERT INTO sessions (key, generation, created_at, updated_at) VALUES ($1, 2, $2, $2)
       ON CONFLICT (key) DO UPDATE SET generation = sessions.generation + 1, updated_at = EXCLUDED.updated_at
       RETURNING *`,
      [key, now],
    );
    return sessionFromRow(rows[0]);
  }

  async listSessions(filter: { prefix?: string; limit?: number }): Promise<SessionInfo[]> {
    const limit = filter.limit ?? 100;
    const { rows } = filter.prefix
      ? await this.#pool.query(
          `SELECT * FROM sessions WHERE starts_with(key, $1) ORDER BY updated_at DESC, key COLLATE "C" LIMIT $2`,
          [filter.prefix, limit],
        )
      : await this.#pool.query(`SELECT * FROM sessions ORDER BY updated_at DESC, key COLLATE "C" LIMIT $1`, [
          limit,
        ]);
    return rows.map(sessionFromRow);
  }

  async deleteSession(key: string): Promise<void> {
    await this.#tx(async (c) => {
      await c.query(`DELETE FROM messages WHERE session_key = $1`, [key]);
      await c.query(`DELETE FROM sessions WHERE key = $1`, [key]);
    });
  }

  async #appendMessages(c: Queryable, messages: NewMessage[]): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for (const m of messages) {
      const now = m.createdAt ?? Date.now();
      // Creates the session if needed and records this as its latest message, returning the generation the
      // message belongs to: one round trip instead of three.
      const session = await c.query(
        `INSERT INTO sessions (key, created_at, updated_at, last_message) VALUES ($1, $2, $2, $3)
         ON CONFLICT (key) DO UPDATE SET updated_at = EXCLUDED.updated_at, last_message = EXCLUDED.last_message
         RETURNING generation`,
        [m.sessionKey, now, m.content.slice(0, 200)],
      );
      const { rows } = await c.query(
        `INSERT INTO messages (session_key, generation, role, content, event_id, author, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [
          m.sessionKey,
          session.rows[0].generation,
          m.role,
          m.content,
          m.eventId ?? null,
          m.author ?? null,
          now,
        ],
      );
      out.push(messageFromRow(rows[0]));
    }
    return out;
  }

  async appendMessages(messages: NewMessage[]): Promise<StoredMessage[]> {
    if (messages.length === 0) return [];
    return this.#tx((c) => this.#appendMessages(c, messages));
  }

  async listMessages(
    key: string,
    opts: { generation?: number; limit?: number; afterId?: number; last?: number } = {},
  ): Promise<StoredMessage[]> {
    const where = ["session_key = $1"];
    const args: unknown[] = [key];
    if (opts.generation !== undefined) {
      args.push(opts.generation);
      where.push(`generation = $${args.length}`);
    }
    if (opts.afterId !== undefined) {
      args.push(opts.afterId);
      where.push(`id > $${args.length}`);
    }
    const cond = where.join(" AND ");
    args.push(opts.last ?? opts.limit ?? 1000);
    const sql =
      opts.last !== undefined
        ? `SELECT * FROM (SELECT * FROM messages WHERE ${cond} ORDER BY id DESC LIMIT $${args.length}) m ORDER BY id`
        : `SELECT * FROM messages WHERE ${cond} ORDER BY id LIMIT $${args.length}`;
    const { rows } = await this.#pool.query(sql, args);
    return rows.map(messageFromRow);
  }

  // ---------------- key-value ----------------

  async kvGet(namespace: string, key: string): Promise<string | undefined> {
    const { rows } = await this.#pool.query(
      `SELECT value FROM kv WHERE namespace = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > ${NOW_MS})`,
      [namespace, key],
    );
    return rows[0]?.value;
  }

  async #kvSet(c: Queryable, namespace: string, key: string, value: string, ttlMs?: number) {
    await c.query(
      `INSERT INTO kv (namespace, key, value, expires_at)
       VALUES ($1, $2, $3, CASE WHEN $4::bigint IS NULL THEN NULL ELSE ${NOW_MS} + $4::bigint END)
       ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
      [namespace, key, value, ttlMs ? ttlMs : null],
    );
  }

  async kvSet(namespace: string, key: string, value: string, ttlMs?: number): Promise<void> {
    await this.#kvSet(this.#pool, namespace, key, value, ttlMs);
  }

  /** Atomic: a concurrent insert of the same key waits on the unique index, then sees the winner's row. */
  async kvSetIfAbsent(namespace: string, key: string, value: string, ttlMs?: number): Promise<boolean> {
    const r = await this.#pool.query(
      `INSERT INTO kv (namespace, key, value, expires_at)
       VALUES ($1, $2, $3, CASE WHEN $4::bigint IS NULL THEN NULL ELSE ${NOW_MS} + $4::bigint END)
       ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
       WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ${NOW_MS}`,
      [namespace, key, value, ttlMs ? ttlMs : null],
    );
    return r.rowCount === 1;
  }

  /**
   * One UPDATE: a concurrent writer of the same row makes this one wait, and READ COMMITTED then re-checks
   * the WHERE against the committed row, so of two writers that read the same value only one succeeds.
   */
  async kvCompareAndSet(
    namespace: string,
    key: string,
    expected: string,
    value: string,
    ttlMs?: number,
  ): Promise<boolean> {
    const r = await this.#pool.query(
      `UPDATE kv SET value = $4,
         expires_at = CASE WHEN $5::bigint IS NULL THEN NULL ELSE ${NOW_MS} + $5::bigint END
       WHERE namespace = $1 AND key = $2 AND value = $3 AND (expires_at IS NULL OR expires_at > ${NOW_MS})`,
      [namespace, key, expected, value, ttlMs ? ttlMs : null],
    );
    return r.rowCount === 1;
  }

  async kvTake(namespace: string, key: string): Promise<string | undefined> {
    const { rows } = await this.#pool.query(
      `DELETE FROM kv WHERE namespace = $1 AND key = $2 AND (expires_at IS NULL OR expires_at > ${NOW_MS})
       RETURNING value`,
      [namespace, key],
    );
    return rows[0]?.value;
  }

  async kvDelete(namespace: string, key: string): Promise<void> {
    await this.#pool.query(`DELETE FROM kv WHERE namespace = $1 AND key = $2`, [namespace, key]);
  }

  async kvList(
    namespace: string,
    opts: { prefix?: string; limit?: number } = {},
  ): Promise<{ key: string; value: string }[]> {
    const { rows } = await this.#pool.query(
      `SELECT key, value FROM kv WHERE namespace = $1 AND starts_with(key, $2)
       AND (expires_at IS NULL OR expires_at > ${NOW_MS}) ORDER BY key COLLATE "C" LIMIT $3`,
      [namespace, opts.prefix ?? "", opts.limit ?? 1000],
    );
    return rows.map((r) => ({ key: r.key as string, value: r.value as string }));
  }

  // ---------------- leases ----------------

  /** One statement, so two replicas racing for a free or expired lease cannot both win. */
  async prune(opts: {
    finishedBefore: number;
    limit: number;
  }): Promise<{ inbox: number; outbox: number; kv: number }> {
    const { finishedBefore, limit } = opts;
    const inbox = await this.#pool.query(
      `DELETE FROM inbox WHERE seq IN
         (SELECT seq FROM inbox WHERE state = 'done' AND updated_at < $1 ORDER BY seq LIMIT $2)`,
      [finishedBefore, limit],
    );
    const outbox = await this.#pool.query(
      `DELETE FROM outbox WHERE id IN
         (SELECT id FROM outbox WHERE state = 'done' AND updated_at < $1 ORDER BY id LIMIT $2)`,
      [finishedBefore, limit],
    );
    const kv = await this.#pool.query(
      `DELETE FROM kv WHERE (namespace, key) IN
         (SELECT namespace, key FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ${NOW_MS} LIMIT $1)`,
      [limit],
    );
    return { inbox: inbox.rowCount ?? 0, outbox: outbox.rowCount ?? 0, kv: kv.rowCount ?? 0 };
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const r = await this.#pool.query(
      `INSERT INTO leases (name, owner, until) VALUES ($1, $2, ${NOW_MS} + $3)
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
       WHERE leases.owner = EXCLUDED.owner OR leases.until < ${NOW_MS}`,
      [name, owner, ttlMs],
    );
    return r.rowCount === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.#pool.query(`DELETE FROM leases WHERE name = $1 AND owner = $2`, [name, owner]);
  }

  async leaseHolder(name: string): Promise<{ owner: string; until: number } | undefined> {
    const { rows } = await this.#pool.query(
      `SELECT owner, until FROM leases WHERE name = $1 AND until >= ${NOW_MS}`,
      [name],
    );
    return rows[0] ? { owner: rows[0].owner, until: Number(rows[0].until) } : undefined;
  }
}

function listQuery(
  table: "inbox" | "outbox",
  order: "seq" | "id",
  filter: { state?: QueueState; sessionKey?: string; limit?: number },
): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.state) {
    args.push(filter.state);
    where.push(`state = $${args.length}`);
  }
  if (filter.sessionKey) {
    args.push(filter.sessionKey);
    where.push(`session_key = $${args.length}`);
  }
  args.push(filter.limit ?? 100);
  const cond = where.length ? `WHERE ${where.join(" AND ")}` : "";
  return { sql: `SELECT * FROM ${table} ${cond} ORDER BY ${order} DESC LIMIT $${args.length}`, args };
}
