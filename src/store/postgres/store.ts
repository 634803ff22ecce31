// The shared store on PostgreSQL, for several gateway replicas behind a load balancer. PostgreSQL is the only
// coordinator: dedup is the inbox's primary key, claims are row leases taken with FOR UPDATE SKIP LOCKED on due
// lane rows and their heads (lanes-claim.ts), singletons are rows in `leases`. Every time that decides who may
// do what is read from the database clock (NOW_MS), so replicas whose clocks disagree never both think they
// hold a lease.
import type pg from "pg";
import { GroupCommit } from "../group-commit.ts";
import { LANE_QUEUES, type LaneQueue } from "../lanes.ts";
import { runMigrations } from "../migrate.ts";
import { PortableStore } from "../portable.ts";
import { inboxFromRow, messageFromRow, outboxFromRow, type Row, sessionFromRow } from "../rows.ts";
import type { Queue, Sql } from "../sql.ts";
import * as SQL from "../sql.ts";
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
import { deleteEmptyLanes, INSERT_INBOUND, leaseHeads, lockDueLanes, withLaneDue } from "./lanes-claim.ts";
import { postgresMigrations } from "./migrations.ts";
import { openPool, type PostgresStoreOptions } from "./pool.ts";
import { SESSION_HISTORY } from "./session-history.ts";
import { inlined, StatementBatch } from "./statement-batch.ts";

type Queryable = pg.Pool | pg.PoolClient;

/** Advisory-lock namespace (first key of the two-int form) of migrations; lanes' are in lanes-claim.ts. */
const MIGRATION_LOCK = 0x636c6177; // "claw"

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

  /**
   * A claim round's transaction in three round trips instead of five: BEGIN goes out with the statement that
   * locks due lanes, and COMMIT with the last statement (deleting lanes found empty), each pair as one simple
   * Query message with its values written in (statement-batch.ts). The statements, their order and the
   * transaction are the same as with #tx; values that cannot be written in take the long way.
   */
  async #claimTx(
    [dueQ, dueValues]: [Sql, unknown[]],
    lease: (c: pg.PoolClient, lanes: string[]) => Promise<{ leased: Row[]; last?: [Sql, unknown[]] }>,
  ): Promise<{ lanes: string[]; leased: Row[] }> {
    const first = inlined(SQL.postgresText(dueQ), dueValues);
    const c = await this.#pool.connect();
    try {
      let lanes: string[];
      if (first) {
        const [, locked] = (await c.query(`BEGIN;\n${first}`)) as unknown as pg.QueryResult<Row>[];
        lanes = locked!.rows.map((r) => r.session_key as string);
      } else {
        await c.query("BEGIN");
        lanes = (await this.#q(dueQ, dueValues, c)).rows.map((r) => r.session_key as string);
      }
      if (lanes.length === 0) {
        await c.query("COMMIT");
        return { lanes, leased: [] };
      }
      const { leased, last } = await lease(c, lanes);
      const closing = last && inlined(SQL.postgresText(last[0]), last[1]);
      if (last && !closing) await this.#q(last[0], last[1], c);
      await c.query(closing ? `${closing};\nCOMMIT` : "COMMIT");
      return { lanes, leased };
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
    return (await (SQL.isRead(q) ? this.#read(q, values) : this.#write(q, values))).rows[0];
  }

  protected async changes(q: Sql, values: unknown[]): Promise<number> {
    return (await this.#write(q, values)).rowCount ?? 0;
  }

  protected async settled(): Promise<void> {
    await this.#enqueues.settled();
    await this.#writes.settled();
  }

  protected async changeLane(lane: LaneQueue, q: Sql, values: unknown[]): Promise<boolean> {
    return (await this.#write(laneDue(lane, q), values)).rowCount === 1;
  }

  protected async changeLanes(lane: LaneQueue, q: Sql, values: unknown[]): Promise<number> {
    return (await this.#write(laneDue(lane, q), values)).rowCount ?? 0;
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
      items.map((i) => i.alias ?? null),
    ]);
    // As on SQLite: the first item stored into a lane that had no row opens it; the rest queue behind it.
    const stored = new Set(rows.map((r) => r.id as string));
    const opened = new Set(rows.filter((r) => r.opened).map((r) => r.session_key as string));
    return batch.map((item) => {
      if (!stored.delete(item.id)) return "duplicate";
      return opened.delete(item.sessionKey) ? "inserted" : "queued";
    });
  }

  async claimInbound(opts: ClaimOptions): Promise<InboxItem[]> {
    return (await this.#claimLanes(LANE_QUEUES.inbox, opts)).map(inboxFromRow);
  }

  /**
   * Both queues' claim, by lanes (src/store/lanes.ts, lanes-claim.ts): lock due lanes, then lease their heads,
   * in one transaction per round. A round that found lanes not claimable after all (their ready time was early)
   * has moved them on, so a few more rounds fill `limit` from the lanes due behind them. An outbox claim for
   * some channels reads only those channels' lanes.
   */
  async #claimLanes(lane: LaneQueue, { owner, leaseMs, limit, channels }: ClaimOptions): Promise<Row[]> {
    const only = lane.channel ? (channels ?? null) : null;
    if (limit <= 0 || only?.length === 0) return [];
    await this.settled();
    const { due, dueIn, lease, deleteEmpty } = CLAIMS[lane.table];
    const out: Row[] = [];
    for (let round = 0; round < 4 && out.length < limit; round++) {
      const asked = limit - out.length;
      const { lanes, leased } = await this.#claimTx(
        only ? [dueIn, [asked, only]] : [due, [asked]],
        async (c, lanes) => {
          const values = [lanes, owner, leaseMs, Date.now(), ...(lane.channel ? [only] : [])];
          const rows = (await this.#q(lease, values, c)).rows;
          const empty = rows.filter((r) => r.empty_lane !== null).map((r) => r.empty_lane);
          return {
            leased: rows.filter((r) => r.empty_lane === null),
            last: empty.length ? [deleteEmpty, [empty]] : undefined,
          };
        },
      );
      out.push(...leased);
      // Fewer due lanes than asked for: none are left (or the rest are locked by other claimers).
      if (lanes.length < asked) break;
    }
    const key = lane.key;
    return out.sort((a, b) => Number(a[key]) - Number(b[key]));
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
    return (await this.#claimLanes(LANE_QUEUES.outbox, opts)).map(outboxFromRow);
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

/** Each queue's claim statements (lanes-claim.ts), built once: the text is what PostgreSQL prepares. */
const CLAIMS = Object.fromEntries(
  (["inbox", "outbox"] as const).map((t) => {
    const lane = LANE_QUEUES[t];
    const statements = {
      due: lockDueLanes(lane, false),
      dueIn: lockDueLanes(lane, lane.channel),
      lease: leaseHeads(lane, SQL.COLUMNS[t]),
      deleteEmpty: deleteEmptyLanes(lane),
    };
    return [t, statements];
  }),
) as Record<Queue, { due: Sql; dueIn: Sql; lease: Sql; deleteEmpty: Sql }>;

/** Each lane-changing statement, wrapped once (the wrapped text is what PostgreSQL prepares). */
const wrapped = new Map<Sql, Sql>();
function laneDue(lane: LaneQueue, q: Sql): Sql {
  let w = wrapped.get(q);
  if (!w) {
    w = withLaneDue(lane, q);
    wrapped.set(q, w);
  }
  return w;
}
