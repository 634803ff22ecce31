// The SQL both stores run, written once. Statements are spelled for PostgreSQL (numbered placeholders $1…,
// `::type` casts where PostgreSQL cannot infer a parameter's type) plus two tokens, and each store renders
// them for its dialect:
//   {now}  the current time in epoch milliseconds. PostgreSQL reads the database clock, so replicas with skewed
//          clocks agree on leases; SQLite (one process, one clock) binds Date.now() as one more parameter.
//   {C}    byte-order collation for ORDER BY on keys: COLLATE "C" on PostgreSQL, SQLite's default already.
// Only what differs in meaning stays in each store: the claim (PostgreSQL's SKIP LOCKED with per-lane advisory
// locks against SQLite's single writer) and the inbound insert (one unnest statement per batch against
// per-row inserts inside SQLite's group-commit transaction).
import type { QueueState } from "./types.ts";

export type Queue = "inbox" | "outbox";
export type ListFilter = { state?: QueueState; sessionKey?: string; limit?: number };
export type MessageFilter = { generation?: number; limit?: number; afterId?: number; last?: number };

/** One statement. `name` marks the hot path: PostgreSQL prepares it once per connection and reuses the plan. */
export interface Sql {
  text: string;
  name?: string;
}

const sql = (text: string, name?: string): Sql => (name ? { text, name } : { text });

/** The epoch-millisecond database clock (transaction start: stable within one claim). */
export const NOW_MS = "(extract(epoch from now()) * 1000)::bigint";

const postgresTexts = new Map<string, string>();
export function postgresText(q: Sql): string {
  let text = postgresTexts.get(q.text);
  if (text === undefined) {
    text = q.text.replaceAll("{now}", NOW_MS).replaceAll("{C}", ' COLLATE "C"');
    postgresTexts.set(q.text, text);
  }
  return text;
}

const reads = new WeakMap<Sql, boolean>();

/** A statement that only reads (it need not join either store's group commit of writes); decided once per statement. */
export function isRead(q: Sql): boolean {
  let read = reads.get(q);
  if (read === undefined) {
    read = /^\s*SELECT\b/i.test(q.text);
    reads.set(q, read);
  }
  return read;
}

const sqliteTexts = new Map<string, { text: string; now: boolean }>();
/** SQLite spelling: `$n` becomes `?n` (same numbering), casts and {C} drop, {now} is the parameter after the last. */
export function sqliteText(q: Sql): { text: string; now: boolean } {
  let out = sqliteTexts.get(q.text);
  if (out === undefined) {
    const last = Math.max(0, ...[...q.text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
    out = {
      text: q.text
        .replaceAll(/\$(\d+)/g, "?$1")
        .replaceAll(/::[a-z]+(\[\])?/g, "")
        .replaceAll("{C}", "")
        .replaceAll("{now}", `?${last + 1}`),
      now: q.text.includes("{now}"),
    };
    sqliteTexts.set(q.text, out);
  }
  return out;
}

/** Every column, for statements PostgreSQL keeps prepared (a prepared `*` breaks when a column is added). */
export const COLUMNS: Record<Queue, string[]> = {
  inbox:
    "seq id session_key payload received_at state attempts available_at lease_owner lease_until last_error updated_at".split(
      " ",
    ),
  outbox:
    "id idempotency_key session_key channel account payload event_id state attempts available_at lease_owner lease_until last_error result created_at updated_at".split(
      " ",
    ),
};

const both = <T>(make: (t: Queue) => T): Record<Queue, T> => ({
  inbox: make("inbox"),
  outbox: make("outbox"),
});

// ---------------- queues ----------------

/** $1 lease ms, $2 id, $3 owner. */
export const extendLease = both((t) =>
  sql(
    `UPDATE ${t} SET lease_until = {now} + $1 WHERE id = $2 AND lease_owner = $3 AND state = 'leased'`,
    `cg_${t}_extend`,
  ),
);

/** $1 new state, $2 delay ms from now, $3 error, $4 updated_at, $5 id, $6 owner. */
export const fail = both((t) =>
  sql(
    `UPDATE ${t} SET state = $1, available_at = {now} + $2, last_error = $3, lease_owner = NULL,
       lease_until = NULL, updated_at = $4
     WHERE id = $5 AND lease_owner = $6 AND state = 'leased'`,
    `cg_${t}_fail`,
  ),
);

/** $1 updated_at, $2 id, $3 owner; returns the lane, to mark it due (src/store/lanes.ts), with seq and state. */
export const completeInbound = sql(
  `UPDATE inbox SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $1
   WHERE id = $2 AND lease_owner = $3 AND state = 'leased' RETURNING session_key, seq, state`,
  "cg_inbox_complete_lane",
);

/** $1 result, $2 updated_at, $3 id, $4 owner. */
export const completeOutbound = sql(
  `UPDATE outbox SET state = 'done', result = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL,
     updated_at = $2
   WHERE id = $3 AND lease_owner = $4 AND state = 'leased'`,
  "cg_outbox_complete",
);

/** $1 idempotency key … $6 event id, $7 created_at; returns the id when it inserted. */
export const enqueueOutbound = sql(
  `INSERT INTO outbox (idempotency_key, session_key, channel, account, payload, event_id,
     available_at, created_at, updated_at)
   VALUES ($1, $2, $3, $4, $5, $6, {now}, $7, $7)
   ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
  "cg_outbox_enqueue",
);

export const outboxIdByKey = sql(`SELECT id FROM outbox WHERE idempotency_key = $1`);
export const outboxByKey = sql(`SELECT * FROM outbox WHERE idempotency_key = $1`);
export const getById = both((t) => sql(`SELECT * FROM ${t} WHERE id = $1`));
export const stats = both((t) => sql(`SELECT state, COUNT(*) AS n FROM ${t} GROUP BY state`));

/** Operator action: a dead item back to pending, with a fresh attempt count. $1 updated_at, $2 id. */
export const retryDead = both((t) =>
  sql(
    `UPDATE ${t} SET state = 'pending', available_at = {now}, attempts = 0, updated_at = $1
     WHERE id = $2 AND state = 'dead'`,
  ),
);

/** Operator actions on dead letters. Discard: finished, its error kept (an inbox row is the dedup memory). */
export const discardDead = both((t) =>
  sql(`UPDATE ${t} SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = $1
     WHERE id = $2 AND state = 'dead'`),
);
/** Every dead item back to pending. $1 updated_at. */
export const retryAllDead = both((t) =>
  sql(
    `UPDATE ${t} SET state = 'pending', available_at = {now}, attempts = 0, updated_at = $1 WHERE state = 'dead'`,
  ),
);

/** Newest first, optionally one state and/or one lane. */
export function listQueue(table: Queue, filter: ListFilter): { q: Sql; args: (string | number)[] } {
  const where: string[] = [];
  const args: (string | number)[] = [];
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
  const order = table === "inbox" ? "seq" : "id";
  return { q: sql(`SELECT * FROM ${table} ${cond} ORDER BY ${order} DESC LIMIT $${args.length}`), args };
}

/** Retention: $1 finished before, $2 batch size (kv: $1 batch size). */
export const pruneInbox = sql(
  `DELETE FROM inbox WHERE seq IN
     (SELECT seq FROM inbox WHERE state = 'done' AND updated_at < $1 ORDER BY seq LIMIT $2)`,
);
export const pruneOutbox = sql(
  `DELETE FROM outbox WHERE id IN
     (SELECT id FROM outbox WHERE state = 'done' AND updated_at < $1 ORDER BY id LIMIT $2)`,
);
export const pruneKv = sql(
  `DELETE FROM kv WHERE (namespace, key) IN
     (SELECT namespace, key FROM kv WHERE expires_at IS NOT NULL AND expires_at <= {now} LIMIT $1)`,
);

/** $1 batch size: media past its expiry. */
export const pruneMedia = sql(
  `DELETE FROM media WHERE id IN (SELECT id FROM media WHERE expires_at <= {now} LIMIT $1)`,
);

// ---------------- media ----------------

/** $1 id, $2 owner, $3 mime, $4 name, $5 size, $6 bytes, $7 created (ms), $8 expires (ms). */
export const mediaPut = sql(
  `INSERT INTO media (id, owner, mime, name, size, bytes, created_at, expires_at)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
);
export const mediaGet = sql(
  `SELECT id, owner, mime, name, size, bytes, created_at, expires_at FROM media WHERE id = $1 AND expires_at > {now}`,
);
export const mediaDelete = sql(`DELETE FROM media WHERE id = $1`);
/** A conversation's files go with it (deleteSession). */
export const deleteMediaOf = sql(`DELETE FROM media WHERE owner = $1`);

// ---------------- sessions and history ----------------

export const getSession = sql(`SELECT * FROM sessions WHERE key = $1`);

/** Create if missing, set the title only when there is none, return the row either way. $1 key, $2 title, $3 now. */
export const ensureSession = sql(
  `INSERT INTO sessions (key, title, created_at, updated_at) VALUES ($1, $2, $3, $3)
   ON CONFLICT (key) DO UPDATE SET title = COALESCE(sessions.title, EXCLUDED.title)
   RETURNING *`,
);

/**
 * ensureSession without reading the row back: a session that exists with a title is left untouched (no row is
 * written). $1 key, $2 title, $3 now.
 */
export const ensureSessionQuietly = sql(
  `INSERT INTO sessions (key, title, created_at, updated_at) VALUES ($1, $2, $3, $3)
   ON CONFLICT (key) DO UPDATE SET title = EXCLUDED.title
   WHERE sessions.title IS NULL AND EXCLUDED.title IS NOT NULL`,
);

/** A new generation (a missing session starts at its second). $1 key, $2 now. */
export const resetSession = sql(
  `INSERT INTO sessions (key, generation, created_at, updated_at) VALUES ($1, 2, $2, $2)
   ON CONFLICT (key) DO UPDATE SET generation = sessions.generation + 1, updated_at = EXCLUDED.updated_at
   RETURNING *`,
);

export const listSessionsByPrefix = sql(
  `SELECT * FROM sessions WHERE substr(key, 1, length($1::text)) = $1
   ORDER BY updated_at DESC, key{C} LIMIT $2`,
);
export const listSessions = sql(`SELECT * FROM sessions ORDER BY updated_at DESC, key{C} LIMIT $1`);
/**
 * Conversations by key prefix whose messages contain $2 and whose authors contain $3 (LIKE patterns, lower
 * case; '' matches all), newest first. $4 limit.
 */
export const searchSessions = sql(
  `SELECT * FROM sessions s WHERE substr(s.key, 1, length($1::text)) = $1
   AND ($2::text = '' OR EXISTS (SELECT 1 FROM messages m WHERE m.session_key = s.key
        AND lower(m.content) LIKE $2 ESCAPE '\\'))
   AND ($3::text = '' OR EXISTS (SELECT 1 FROM messages m WHERE m.session_key = s.key
        AND lower(m.author) LIKE $3 ESCAPE '\\'))
   ORDER BY s.updated_at DESC, s.key{C} LIMIT $4`,
);
export const deleteMessages = sql(`DELETE FROM messages WHERE session_key = $1`);
/** A conversation's history from one message on (an edited message resent). $1 key, $2 first id removed. */
export const deleteMessagesFrom = sql(`DELETE FROM messages WHERE session_key = $1 AND id >= $2`);
/** $1 key, $2 title (null clears it). */
export const renameSession = sql(`UPDATE sessions SET title = $2 WHERE key = $1 RETURNING *`);
export const deleteSession = sql(`DELETE FROM sessions WHERE key = $1`);

/**
 * Creates the session if needed and records this as its latest message, returning the generation the message
 * belongs to: one round trip instead of three. $1 key, $2 now, $3 last message.
 */
export const touchForMessage = sql(
  `INSERT INTO sessions (key, created_at, updated_at, last_message) VALUES ($1, $2, $2, $3)
   ON CONFLICT (key) DO UPDATE SET updated_at = EXCLUDED.updated_at, last_message = EXCLUDED.last_message
   RETURNING generation`,
);

export const insertMessage = sql(
  `INSERT INTO messages (session_key, generation, role, content, event_id, author, created_at, parts)
   VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
);

export function listMessages(key: string, opts: MessageFilter): { q: Sql; args: (string | number)[] } {
  const where = ["session_key = $1"];
  const args: (string | number)[] = [key];
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
  const text =
    opts.last !== undefined
      ? `SELECT * FROM (SELECT * FROM messages WHERE ${cond} ORDER BY id DESC LIMIT $${args.length}) m ORDER BY id`
      : `SELECT * FROM messages WHERE ${cond} ORDER BY id LIMIT $${args.length}`;
  return { q: sql(text), args };
}

// ---------------- key-value ----------------

const LIVE = "(expires_at IS NULL OR expires_at > {now})";
const EXPIRES = "CASE WHEN $4::bigint IS NULL THEN NULL ELSE {now} + $4::bigint END";

export const kvGet = sql(`SELECT value FROM kv WHERE namespace = $1 AND key = $2 AND ${LIVE}`);

/** $1 namespace, $2 key, $3 value, $4 ttl ms or NULL. */
export const kvSet = sql(
  `INSERT INTO kv (namespace, key, value, expires_at) VALUES ($1, $2, $3, ${EXPIRES})
   ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
);

/** Atomic: a concurrent insert of the same key waits on the unique index, then sees the winner's row. */
export const kvSetIfAbsent = sql(
  `INSERT INTO kv (namespace, key, value, expires_at) VALUES ($1, $2, $3, ${EXPIRES})
   ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
   WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= {now}`,
);

/**
 * One UPDATE: on PostgreSQL a concurrent writer of the same row makes this one wait, and READ COMMITTED then
 * re-checks the WHERE against the committed row, so of two writers that read the same value only one succeeds.
 * $1 namespace, $2 key, $3 expected, $4 ttl ms or NULL, $5 value.
 */
export const kvCompareAndSet = sql(
  `UPDATE kv SET value = $5, expires_at = ${EXPIRES}
   WHERE namespace = $1 AND key = $2 AND value = $3 AND ${LIVE}`,
);

export const kvTake = sql(`DELETE FROM kv WHERE namespace = $1 AND key = $2 AND ${LIVE} RETURNING value`);
export const kvDelete = sql(`DELETE FROM kv WHERE namespace = $1 AND key = $2`);

/** $1 namespace, $2 prefix, $3 limit. */
export const kvList = sql(
  `SELECT key, value FROM kv WHERE namespace = $1 AND substr(key, 1, length($2::text)) = $2 AND ${LIVE}
   ORDER BY key{C} LIMIT $3`,
);

// ---------------- leases ----------------

/** One statement, so two replicas racing for a free or expired lease cannot both win. $1 name, $2 owner, $3 ttl. */
export const acquireLease = sql(
  `INSERT INTO leases (name, owner, until) VALUES ($1, $2, {now} + $3)
   ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
   WHERE leases.owner = EXCLUDED.owner OR leases.until < {now}`,
);
/**
 * Renews many of one owner's leases in one statement (one write however many singletons a process runs). Only
 * rows still ours are touched: a lease released, or taken over after it expired, stays lost — renewing must
 * never take a lease back. $1 the names as the keys of a JSON object (both dialects' json_each lists an
 * object's keys in a `key` column), $2 owner, $3 ttl.
 */
export const renewLeases = sql(
  `UPDATE leases SET until = {now} + $3
   WHERE owner = $2 AND name IN (SELECT key FROM json_each($1::json))`,
);
/** Which of the names (as for renewLeases) `owner` holds. */
export const heldLeases = sql(
  `SELECT name FROM leases WHERE owner = $2 AND name IN (SELECT key FROM json_each($1::json))`,
);
export const releaseLease = sql(`DELETE FROM leases WHERE name = $1 AND owner = $2`);
export const leaseHolder = sql(`SELECT owner, until FROM leases WHERE name = $1 AND until >= {now}`);
