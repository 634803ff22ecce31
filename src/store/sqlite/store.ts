// The embedded store on node:sqlite. WAL with synchronous=FULL so a resolved write survives power loss. Every
// write (enqueues, claims, completions, failures, delivery marks, lease extensions) requested in the same
// event-loop turn shares one transaction (group commit, src/store/group-commit.ts): one fsync for the batch
// instead of one per write, and node:sqlite's synchronous fsync blocks the event loop once per turn at most. A
// batch with more than a few milliseconds of statements is split across turns (transactionBudgetMs).
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { GroupCommit } from "../group-commit.ts";
import type { LaneQueue } from "../lanes.ts";
import * as LANES from "../lanes.ts";
import { runMigrations } from "../migrate.ts";
import { PortableStore } from "../portable.ts";
import { inboxFromRow, messageFromRow, outboxFromRow, type Row } from "../rows.ts";
import type { Sql } from "../sql.ts";
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
  Store,
  StoredMessage,
} from "../types.ts";
import { WS } from "../workspaces-sql.ts";
import { afterInboxChange, insertInbound, type Statements } from "./inbox-waiting.ts";
import { sqliteMigrations } from "./migrations.ts";
import { commitWrites, type Outcome } from "./write-batch.ts";

type Arg = SQLInputValue;

export interface SqliteStoreOptions {
  /** "FULL" (default) survives power loss; "NORMAL" survives process crashes only. */
  synchronous?: "FULL" | "NORMAL";
  /**
   * Milliseconds of statements one group-commit transaction may run before it commits and leaves the rest of
   * the batch to the next event-loop turn (src/store/sqlite/write-batch.ts). Default 2.
   */
  transactionBudgetMs?: number;
}

export class SqliteStore extends PortableStore implements Store {
  readonly kind = "sqlite" as const;
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #writes: GroupCommit<() => unknown, Outcome>;
  #closed = false;
  readonly #statements = new Map<string, StatementSync>();

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    super();
    this.path = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;`);
    this.#db.exec(`PRAGMA synchronous = ${opts.synchronous ?? "FULL"};`);
    const budgetMs = opts.transactionBudgetMs ?? 2;
    this.#writes = new GroupCommit((ops) => commitWrites(this.#db, ops, budgetMs));
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
    this.#writes.flush();
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

  // A statement that writes (an upsert, a take) joins the group commit; a read runs at once.
  protected async one(q: Sql, args: unknown[]): Promise<Row | undefined> {
    if (SQL.isRead(q)) return this.#get(q, ...(args as Arg[]));
    return this.#write(() => this.#get(q, ...(args as Arg[])));
  }

  protected async all(q: Sql, args: unknown[]): Promise<Row[]> {
    return this.#all(q, ...(args as Arg[]));
  }

  protected changes(q: Sql, args: unknown[]): Promise<number> {
    return this.#write(() => this.#run(q, ...(args as Arg[])));
  }

  protected async settled(): Promise<void> {
    this.#writes.flush();
  }

  protected changeLane(lane: LaneQueue, q: Sql, args: unknown[]): Promise<boolean> {
    return this.#write(() => this.#changeLane(lane, q, args as Arg[]));
  }

  protected changeLanes(lane: LaneQueue, q: Sql, args: unknown[]): Promise<number> {
    return this.#write(() => {
      const rows = this.#all(q, ...(args as Arg[]));
      const lanes = new Map(rows.map((r) => [r.session_key as string, r]));
      for (const row of lanes.values()) this.#laneDue(lane, row);
      if (lane.table === "inbox") for (const row of rows) afterInboxChange(this.#plain, row);
      return rows.length;
    });
  }

  #changeLane(lane: LaneQueue, q: Sql, args: Arg[]): boolean {
    const row = this.#get(q, ...args);
    if (!row) return false;
    this.#laneDue(lane, row);
    if (lane.table === "inbox") afterInboxChange(this.#plain, row);
    return true;
  }

  /** `row` names a lane (lanes.ts laneColumns): it is due now, unless it already was. */
  #laneDue(lane: LaneQueue, row: Row): void {
    const due = LANES.sqliteLanes[lane.table].laneDue;
    if (lane.channel) this.#run(due, row.session_key as string, row.channel as string);
    else this.#run(due, row.session_key as string);
  }

  /**
   * A write joins this turn's group commit; its promise settles with its own result once the shared
   * transaction is durable (or with its own error: one failing write does not undo the others).
   */
  #write<T>(op: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("store is closed"));
    return this.#writes.add(op).then((o) => (o.ok ? (o.value as T) : Promise.reject(o.error)));
  }

  // ---------------- inbox ----------------

  enqueueInbound(item: NewInboxItem): Promise<EnqueueResult> {
    return this.#write(() => this.#insertInbound(item));
  }

  // Row by row inside the group commit's one transaction: with a single in-process writer, a statement costs
  // microseconds and only the COMMIT's fsync is worth sharing (PostgreSQL instead sends the batch as one statement).
  // An item opens its lane (and wakes a claimer) only when the lane has no row yet: one behind unfinished
  // items of its lane is "queued", and nobody needs to look at that lane until its head moves.
  #insertInbound(it: NewInboxItem): EnqueueResult {
    return insertInbound(this.#plain, it, Date.now());
  }

  /** Plain statements for helpers that run inside this store's transactions (inbox-waiting.ts). */
  readonly #plain: Statements = {
    get: (sql, ...args) => this.#cached(sql).get(...args) as Row | undefined,
    run: (sql, ...args) => this.#cached(sql).run(...args),
  };

  claimInbound(opts: ClaimOptions): Promise<InboxItem[]> {
    return this.#claimLanes(LANES.LANE_QUEUES.inbox, opts).then((rows) => rows.map(inboxFromRow));
  }

  /**
   * Both queues' claim. Due lanes by index (src/store/lanes.ts), then each lane's head by index: the cost
   * follows the lanes that are due, not the unfinished rows behind busy or failing heads. A lane found not
   * claimable gets its true ready time, so it is not looked at again before then; rounds go on until `limit`
   * items or no lane is due. SQLite has one writer at a time (BEGIN IMMEDIATE), so nothing races the claim.
   * An outbox claim for some channels reads only their lanes; a head of another channel moves its lane there.
   */
  #claimLanes(lane: LaneQueue, { owner, leaseMs, limit, channels }: ClaimOptions): Promise<Row[]> {
    if (limit <= 0 || (lane.channel && channels?.length === 0)) return Promise.resolve([]);
    const wanted = lane.channel && channels ? new Set(channels) : null;
    const due = LANES.dueLanes(lane, wanted ? channels!.length : null);
    const S = LANES.sqliteLanes[lane.table];
    // Enqueues and completions of this turn that came first are in the same transaction, before the claim.
    return this.#write(() => {
      const now = Date.now();
      const out: Row[] = [];
      // Every lane a round looks at leaves the due set (leased, moved past now, moved to a channel not asked
      // for, or deleted), so rounds end.
      for (;;) {
        const asked = limit - out.length;
        const lanes = this.#all(due, now, asked, ...(wanted ? channels! : []));
        for (const { session_key: key, channel } of lanes) {
          const head = this.#get(S.laneHead, key as string, now);
          if (!head) {
            this.#run(S.deleteLane, key as string);
            continue;
          }
          if (lane.channel && head.channel !== channel) {
            this.#run(S.setLaneChannel, key as string, head.channel as string);
            if (wanted && !wanted.has(head.channel as string)) continue;
          }
          const other = head.other_until;
          const verdict = LANES.laneVerdict(
            {
              state: head.state as "pending" | "leased",
              availableAt: Number(head.available_at),
              leaseUntil: head.lease_until === null ? null : Number(head.lease_until),
            },
            other === null || other === undefined ? null : Number(other),
            now,
          );
          if (verdict.claim) {
            out.push(this.#get(S.lease, owner, now + leaseMs, now, Number(head.k))!);
            this.#run(S.setLaneReady, key as string, now + leaseMs + 1);
          } else this.#run(S.setLaneReady, key as string, verdict.readyAt);
        }
        // Fewer due lanes than asked for: there are no more.
        if (lanes.length < asked || out.length >= limit) {
          const order = lane.key;
          return out.sort((a, b) => Number(a[order]) - Number(b[order]));
        }
      }
    });
  }

  async completeInbound(id: string, owner: string, effects: InboxEffects = {}): Promise<boolean> {
    return this.#write(() => {
      const now = Date.now();
      if (!this.#changeLane(LANES.LANE_QUEUES.inbox, SQL.completeInbound, [now, id, owner])) return false;
      if (effects.messages?.length) this.#appendMessages(effects.messages);
      // Each delivery opens its outbox lane if it has none (the trigger SQLITE_OUTBOX_OPEN_LANE, lanes.ts).
      for (const o of effects.outbox ?? []) this.#enqueueOutbound(o, now);
      for (const kv of effects.kv ?? []) this.#kvSet(kv.namespace, kv.key, kv.value, kv.ttlMs);
      return true;
    });
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
    return this.#write(() => this.#enqueueOutbound(item, Date.now()));
  }

  async claimOutbound(opts: ClaimOptions): Promise<OutboxItem[]> {
    return (await this.#claimLanes(LANES.LANE_QUEUES.outbox, opts)).map(outboxFromRow);
  }

  // ---------------- sessions and history ----------------

  async deleteSession(key: string): Promise<void> {
    await this.#write(() => {
      this.#run(SQL.deleteMessages, key);
      this.#run(SQL.deleteMediaOf, key);
      this.#run(WS.deleteThreadMemories, key);
      this.#run(WS.forgetThread, key);
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
        m.parts?.length ? JSON.stringify(m.parts) : null,
      );
      return messageFromRow(row!);
    });
  }

  async appendMessages(messages: NewMessage[]): Promise<StoredMessage[]> {
    return this.#write(() => this.#appendMessages(messages));
  }

  // An inbox item's kv effects, inside completeInbound's transaction.
  #kvSet(namespace: string, key: string, value: string, ttlMs?: number) {
    this.#run(SQL.kvSet, namespace, key, value, ttlMs || null);
  }

  async prune(opts: {
    finishedBefore: number;
    limit: number;
  }): Promise<{ inbox: number; outbox: number; kv: number; media: number }> {
    const { finishedBefore, limit } = opts;
    return this.#write(() => ({
      inbox: this.#run(SQL.pruneInbox, finishedBefore, limit),
      outbox: this.#run(SQL.pruneOutbox, finishedBefore, limit),
      kv: this.#run(SQL.pruneKv, limit),
      media: this.#run(SQL.pruneMedia, limit),
    }));
  }
}
