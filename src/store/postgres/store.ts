// The shared store on PostgreSQL, for several gateway replicas behind a load balancer. PostgreSQL is the only
// coordinator: dedup is the inbox's primary key, claims are row leases taken with FOR UPDATE SKIP LOCKED under
// a per-lane advisory lock, singletons are rows in `leases`. Every time that decides who may do what is read
// from the database clock (NOW_MS), so replicas whose clocks disagree never both think they hold a lease.
import type pg from "pg";
import { GroupCommit } from "../group-commit.ts";
import { runMigrations } from "../migrate.ts";
import { PortableStore } from "../portable.ts";
import { inboxFromRow, messageFromRow, outboxFromRow, type Row, sessionFromRow } from "../rows.ts";
import type { Queue, Sql } from "../sql.ts";
import * as SQL from "../sql.ts";
import { isRead } from "../sqlite/write-batch.ts";
import type {
  ClaimOptions,
  EnqueueResult,
  InboxEffects,
  InboxItem,
  NewInboxItem,
  NewMessage,
  NewOutboxItem,
  OutboxItem,
  SessionInfo,
  Store,
  StoredMessage,
} from "../types.ts";
import { WS } from "../workspaces-sql.ts";
import { COMPLETE_INBOUND, completeInboundValues } from "./complete.ts";
import {
  DELETE_EMPTY_LANES,
  INSERT_INBOUND,
  LOCK_DUE_LANES,
  leaseHeads,
  withLaneDue,
} from "./lanes-claim.ts";
import { postgresMigrations } from "./migrations.ts";
import { openPool, type PostgresStoreOptions } from "./pool.ts";
import { SESSION_HISTORY } from "./session-history.ts";
import { StatementBatch } from "./statement-batch.ts";

type Queryable = pg.Pool | pg.PoolClient;
const { NOW_MS } = SQL;

/** Advisory-lock namespaces (first key of the two-int form); the second key is hashtext(session_key). */
const MIGRATION_LOCK = 0x636c6177; // "claw"
const OUTBOX_LANE_LOCK = 0x636c6702;

export class PostgresStore extends PortableStore implements Store {
  readonly kind = "postgres" as const;
  readonly #pool: pg.Pool;
  readonly #schema: string | undefined;
  readonly #enqueues = new GroupCommit<NewInboxItem, EnqueueResult>((items) => this.#insertInbound(items));
  /** Group commits (statement-batch.ts): writes of their own, and reads, each in their own batches. */
  readonly #writes: StatementBatch;
  readonly #reads: StatementBatch;
  #closed = false;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    super();
    ({ pool: this.#pool, schema: this.#schema } = openPool(url, opts));
    this.#writes = new StatementBatch(this.#pool);
    this.#reads = new StatementBatch(this.#pool);
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
    await this.#writes.settled();
    await this.#reads.settled();
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

  /** A shared statement (src/store/sql.ts); a named one is prepared once per connection and its plan reused. */
  #q(q: Sql, values: unknown[], c: Queryable = this.#pool): Promise<pg.QueryResult<Row>> {
    const text = SQL.postgresText(q);
    return c.query(q.name ? { name: q.name, text, values } : { text, values });
  }

  async #one(q: Sql, values: unknown[], c: Queryable = this.#pool): Promise<Row | undefined> {
    return (await this.#q(q, values, c)).rows[0];
  }

  /** A write of its own (not inside a transaction of ours): it joins the group commit (write-batch.ts). */
  #write(q: Sql, values: unknown[]): Promise<pg.QueryResult<Row>> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return this.#writes.run(q, SQL.postgresText(q), values);
  }

  #read(q: Sql, values: unknown[]): Promise<pg.QueryResult<Row>> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return this.#reads.run(q, SQL.postgresText(q), values);
  }

  protected async all(q: Sql, values: unknown[]): Promise<Row[]> {
    return (await this.#read(q, values)).rows;
  }

  protected async one(q: Sql, values: unknown[]): Promise<Row | undefined> {
    return (await (isRead(q) ? this.#read(q, values) : this.#write(q, values))).rows[0];
  }

  protected async changes(q: Sql, values: unknown[]): Promise<number> {
    return (await this.#write(q, values)).rowCount ?? 0;
  }

  protected async settled(): Promise<void> {
    await this.#enqueues.settled();
    await this.#writes.settled();
  }

  protected async changeLane(q: Sql, values: unknown[]): Promise<boolean> {
    return (await this.#write(laneDue(q), values)).rowCount === 1;
  }

  protected async changeLanes(q: Sql, values: unknown[]): Promise<number> {
    return (await this.#write(laneDue(q), values)).rowCount ?? 0;
  }

  // ---------------- inbox ----------------

  /**
   * Group commit: enqueues arriving in the same event-loop turn go out as one INSERT … ON CONFLICT DO NOTHING
   * RETURNING id, a single autocommitted statement, so each promise resolves only after COMMIT.
   */
  enqueueInbound(item: NewInboxItem): Promise<EnqueueResult> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return this.#enqueues.add(item);
  }

  async #insertInbound(batch: NewInboxItem[]): Promise<EnqueueResult[]> {
    // The same id twice in one batch: the first occurrence decides, the others are duplicates.
    const unique = new Map<string, NewInboxItem>();
    for (const item of batch) if (!unique.has(item.id)) unique.set(item.id, item);
    const items = [...unique.values()];
    const { rows } = await this.#q(INSERT_INBOUND, [
      items.map((i) => i.id),
      items.map((i) => i.sessionKey),
      items.map((i) => i.payload),
      items.map((i) => i.receivedAt),
      Date.now(),
    ]);
    // As on SQLite: the first item stored into a lane that had no row opens it; the rest queue behind it.
    const stored = new Set(rows.map((r) => r.id as string));
    const opened = new Set(rows.filter((r) => r.opened).map((r) => r.session_key as string));
    return batch.map((item) => {
      if (!stored.delete(item.id)) return "duplicate";
      return opened.delete(item.sessionKey) ? "inserted" : "queued";
    });
  }

  /**
   * By lanes (src/store/lanes.ts, lanes-claim.ts): lock due lanes, then lease their heads, in one transaction
   * per round. A round that found lanes not claimable after all (their ready time was early) has moved them on,
   * so a few more rounds fill `limit` from the lanes due behind them.
   */
  async claimInbound({ owner, leaseMs, limit }: ClaimOptions): Promise<InboxItem[]> {
    await this.settled();
    const out: Row[] = [];
    for (let round = 0; round < 4 && out.length < limit; round++) {
      const asked = limit - out.length;
      const { lanes, leased } = await this.#tx(async (c) => {
        const lanes = (await this.#q(LOCK_DUE_LANES, [asked], c)).rows.map((r) => r.session_key);
        if (lanes.length === 0) return { lanes, leased: [] };
        const rows = (await this.#q(LEASE_HEADS, [lanes, owner, leaseMs, Date.now()], c)).rows;
        const empty = rows.filter((r) => r.empty_lane !== null).map((r) => r.empty_lane);
        if (empty.length) await this.#q(DELETE_EMPTY_LANES, [empty], c);
        return { lanes, leased: rows.filter((r) => r.empty_lane === null) };
      });
      out.push(...leased);
      // Fewer due lanes than asked for: none are left (or the rest are locked by other claimers).
      if (lanes.length < asked) break;
    }
    return out.map(inboxFromRow).sort((a, b) => a.seq - b.seq);
  }

  /**
   * One claim transaction of the outbox (the inbox claims by lanes, above). An item is claimable when it is
   * ready (pending and due, or leased with an expired lease), no earlier item of its lane is unfinished, and no
   * other item of its lane holds a live lease. FOR UPDATE SKIP LOCKED alone only stops two claimers taking the same row; it cannot stop two
   * claimers taking two different rows of one lane when their snapshots disagree about the lane (e.g. an
   * operator revives a dead earlier item while another replica is leasing the later one). So:
   *  1. lock candidate rows FOR UPDATE SKIP LOCKED (so concurrent claimers spread over different rows
   *     instead of fighting over the first ones) and take a transaction-scoped advisory lock per lane
   *     (try-lock: a lane another replica is claiming right now is skipped this round; a hash collision
   *     between two lanes only delays one of them to the next round);
   *  2. in a second statement — a fresh snapshot taken after the lane locks, so it sees every earlier claim
   *     of those lanes committed — re-check the rule on the locked rows and lease them. Nothing here waits
   *     on a lock, so claims never deadlock.
   * SQLite's single writer needs none of this, which is why the claim is the one query each store spells itself.
   */
  async #claim(opts: ClaimOptions): Promise<Row[]> {
    const channels = opts.channels ?? null;
    if (opts.limit <= 0 || channels?.length === 0) return [];
    const { candidates, lease } = CLAIM_OUTBOX;
    const lockSpace = OUTBOX_LANE_LOCK;
    return this.#tx(async (c) => {
      const found = await this.#q(candidates, [channels, opts.limit, lockSpace], c);
      if (found.rows.length === 0) return [];
      const keys = found.rows.map((r) => r.k);
      return (await this.#q(lease, [channels, opts.owner, opts.leaseMs, Date.now(), keys], c)).rows;
    });
  }

  /** One autocommitted statement with all its effects (complete.ts): one round trip per answered message. */
  async completeInbound(id: string, owner: string, effects: InboxEffects = {}): Promise<boolean> {
    const { rows } = await this.#write(
      COMPLETE_INBOUND,
      completeInboundValues(id, owner, effects, Date.now()),
    );
    return rows[0]?.done === true;
  }

  // ---------------- outbox ----------------

  async #enqueueOutbound(
    c: Queryable,
    item: NewOutboxItem,
    now: number,
  ): Promise<{ id: number; inserted: boolean }> {
    const { idempotencyKey: key, sessionKey, channel, account, payload, eventId } = item;
    const row = await this.#one(
      SQL.enqueueOutbound,
      [key, sessionKey, channel, account, payload, eventId ?? null, now],
      c,
    );
    if (row) return { id: Number(row.id), inserted: true };
    return { id: Number((await this.#one(SQL.outboxIdByKey, [key], c))!.id), inserted: false };
  }

  async enqueueOutbound(item: NewOutboxItem): Promise<{ id: number; inserted: boolean }> {
    return this.#enqueueOutbound(this.#pool, item, Date.now());
  }

  async claimOutbound(opts: ClaimOptions): Promise<OutboxItem[]> {
    const rows = await this.#claim(opts);
    return rows.map(outboxFromRow).sort((a, b) => a.id - b.id);
  }

  // ---------------- sessions and history ----------------

  async deleteSession(key: string): Promise<void> {
    await this.#tx(async (c) => {
      await this.#q(SQL.deleteMessages, [key], c);
      await this.#q(SQL.deleteMediaOf, [key], c);
      await this.#q(WS.deleteThreadMemories, [key], c);
      await this.#q(WS.forgetThread, [key], c);
      await this.#q(SQL.deleteSession, [key], c);
    });
  }

  async #appendMessages(c: Queryable, messages: NewMessage[]): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for (const m of messages) {
      const now = m.createdAt ?? Date.now();
      const session = await this.#one(SQL.touchForMessage, [m.sessionKey, now, m.content.slice(0, 200)], c);
      const { sessionKey, role, content, eventId, author } = m;
      const parts = m.parts?.length ? JSON.stringify(m.parts) : null;
      const values = [
        sessionKey,
        session!.generation,
        role,
        content,
        eventId ?? null,
        author ?? null,
        now,
        parts,
      ];
      out.push(messageFromRow((await this.#one(SQL.insertMessage, values, c))!));
    }
    return out;
  }

  async appendMessages(messages: NewMessage[]): Promise<StoredMessage[]> {
    if (messages.length === 0) return [];
    return this.#tx((c) => this.#appendMessages(c, messages));
  }

  /** The session and its recent history in one read; a session still to create (or to title) goes the long way. */
  override async sessionHistory(
    key: string,
    opts: { title?: string; last: number },
  ): Promise<{ session: SessionInfo; messages: StoredMessage[] }> {
    const row = (await this.#read(SESSION_HISTORY, [key, Math.max(0, opts.last)])).rows[0];
    if (!row || (row.title === null && opts.title)) return super.sessionHistory(key, opts);
    const history = (row.history ?? []) as Row[];
    return { session: sessionFromRow(row), messages: history.map(messageFromRow) };
  }

  // ---------------- retention ----------------

  async prune(opts: {
    finishedBefore: number;
    limit: number;
  }): Promise<{ inbox: number; outbox: number; kv: number; media: number }> {
    const { finishedBefore, limit } = opts;
    const inbox = await this.#q(SQL.pruneInbox, [finishedBefore, limit]);
    const outbox = await this.#q(SQL.pruneOutbox, [finishedBefore, limit]);
    const kv = await this.#q(SQL.pruneKv, [limit]);
    const media = await this.#q(SQL.pruneMedia, [limit]);
    return {
      inbox: inbox.rowCount ?? 0,
      outbox: outbox.rowCount ?? 0,
      kv: kv.rowCount ?? 0,
      media: media.rowCount ?? 0,
    };
  }
}

const LEASE_HEADS = leaseHeads(SQL.COLUMNS.inbox);

/** Each lane-changing inbox statement, wrapped once (the wrapped text is what PostgreSQL prepares). */
const wrapped = new Map<Sql, Sql>();
function laneDue(q: Sql): Sql {
  let w = wrapped.get(q);
  if (!w) {
    w = withLaneDue(q);
    wrapped.set(q, w);
  }
  return w;
}

/**
 * The two claim statements of the outbox (see #claim). $1 is always the channel list (NULL: every channel), so
 * both statements share the condition text. Named and prepared, so the lease returns listed columns, not `*`: a
 * prepared `*` fails once a newer replica's migration adds a column.
 */
const CLAIM_OUTBOX = claimStatements("outbox", "id", "($1::text[] IS NULL OR i.channel = ANY($1::text[]))");

function claimStatements(
  table: Queue,
  key: "seq" | "id",
  channelCond: string,
): { candidates: Sql; lease: Sql } {
  const claimable = `
    i.state IN ('pending', 'leased')
    AND ((i.state = 'pending' AND i.available_at <= ${NOW_MS})
         OR (i.state = 'leased' AND i.lease_until < ${NOW_MS}))
    AND ${channelCond}
    AND NOT EXISTS (
      SELECT 1 FROM ${table} j
      WHERE j.session_key = i.session_key AND j.state IN ('pending', 'leased')
        AND (j.${key} < i.${key} OR (j.${key} <> i.${key} AND j.state = 'leased' AND j.lease_until >= ${NOW_MS})))`;
  return {
    candidates: {
      name: `cg_${table}_claim`,
      text: `WITH candidates AS MATERIALIZED (
          SELECT i.session_key, i.${key} AS k FROM ${table} i WHERE ${claimable}
          ORDER BY i.${key} LIMIT $2 FOR UPDATE OF i SKIP LOCKED
        )
        SELECT k FROM candidates WHERE pg_try_advisory_xact_lock($3::int, hashtext(session_key))`,
    },
    lease: {
      name: `cg_${table}_lease`,
      text: `UPDATE ${table} i SET state = 'leased', lease_owner = $2, lease_until = ${NOW_MS} + $3,
          attempts = i.attempts + 1, updated_at = $4
        WHERE i.${key} = ANY($5::bigint[]) AND ${claimable}
        RETURNING ${SQL.COLUMNS[table].map((c) => `i.${c}`).join(", ")}`,
    },
  };
}
