// An inbox completion on PostgreSQL as one statement: the item marked done (only while this owner holds its
// lease), its lane marked due, and its effects — history messages with their sessions touched, outbox rows, kv
// entries — written in the same autocommitted statement. Written as separate statements in a transaction it
// took eight round trips (BEGIN, the update, a session upsert and a message insert per message, the outbox
// insert, COMMIT); on a 2-core machine the gateway's own CPU went mostly to those socket writes, so one round
// trip per answered message is what lets PostgreSQL keep up with the embedded store (docs/benchmarks.md).
// Each outbox row opens its outbox lane if it has none, within this statement: the trigger every outbox insert
// fires (OUTBOX_OPEN_LANES_TRIGGER, lanes-claim.ts).
// The effects are applied only when the update matched (`WHERE EXISTS (SELECT 1 FROM done)`), exactly as the
// transaction returned early before, and any failure undoes the whole statement.
import type { Sql } from "../sql.ts";
import { NOW_MS } from "../sql.ts";
import type { InboxEffects } from "../types.ts";

/**
 * $1 updated_at, $2 id, $3 owner;
 * messages $4 session keys, $5 roles, $6 contents, $7 event ids, $8 authors, $9 created_at, $10 parts (JSON),
 * $11 the session's last_message text; outbox $12 idempotency keys, $13 session keys, $14 channels,
 * $15 accounts, $16 payloads, $17 event ids; kv $18 namespaces, $19 keys, $20 values, $21 TTLs (ms, NULL: none).
 * Returns one row: `done` is true when this owner's lease was still held and the item is now done.
 */
export const COMPLETE_INBOUND: Sql = {
  name: "cg_inbox_complete_all",
  text: `WITH done AS (
      UPDATE inbox SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $1
      WHERE id = $2 AND lease_owner = $3 AND state = 'leased' RETURNING session_key
    ),
    due AS (
      INSERT INTO inbox_lanes (session_key, ready_at) SELECT DISTINCT session_key, ${NOW_MS} FROM done
      ON CONFLICT (session_key) DO UPDATE SET ready_at = ${NOW_MS} WHERE inbox_lanes.ready_at > ${NOW_MS}
    ),
    msg AS (
      SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::text[],
          $11::text[]) WITH ORDINALITY AS m(session_key, role, content, event_id, author, created_at, parts,
          last_message, ord)
      WHERE EXISTS (SELECT 1 FROM done)
    ),
    touched AS (
      INSERT INTO sessions (key, created_at, updated_at, last_message)
      SELECT DISTINCT ON (session_key) session_key, created_at, created_at, last_message FROM msg
      ORDER BY session_key, ord DESC
      ON CONFLICT (key) DO UPDATE SET updated_at = EXCLUDED.updated_at, last_message = EXCLUDED.last_message
      RETURNING key, generation
    ),
    history AS (
      INSERT INTO messages (session_key, generation, role, content, event_id, author, created_at, parts)
      SELECT m.session_key, t.generation, m.role, m.content, m.event_id, m.author, m.created_at, m.parts
      FROM msg m JOIN touched t ON t.key = m.session_key ORDER BY m.ord
    ),
    deliveries AS (
      INSERT INTO outbox (idempotency_key, session_key, channel, account, payload, event_id,
        available_at, created_at, updated_at)
      SELECT o.key, o.session_key, o.channel, o.account, o.payload, o.event_id, ${NOW_MS}, $1, $1
      FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
        WITH ORDINALITY AS o(key, session_key, channel, account, payload, event_id, ord)
      WHERE EXISTS (SELECT 1 FROM done)
      ORDER BY o.ord
      ON CONFLICT (idempotency_key) DO NOTHING
    ),
    entries AS (
      INSERT INTO kv (namespace, key, value, expires_at)
      SELECT DISTINCT ON (e.namespace, e.key) e.namespace, e.key, e.value,
        CASE WHEN e.ttl IS NULL THEN NULL ELSE ${NOW_MS} + e.ttl END
      FROM unnest($18::text[], $19::text[], $20::text[], $21::bigint[]) WITH ORDINALITY AS e(namespace, key, value, ttl, ord)
      WHERE EXISTS (SELECT 1 FROM done)
      ORDER BY e.namespace, e.key, e.ord DESC
      ON CONFLICT (namespace, key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
    )
    SELECT EXISTS (SELECT 1 FROM done) AS done`,
};

/** The statement's parameters, in its order; `now` is the caller's clock for updated_at and created_at. */
export function completeInboundValues(
  id: string,
  owner: string,
  effects: InboxEffects,
  now: number,
): unknown[] {
  const messages = effects.messages ?? [];
  const outbox = effects.outbox ?? [];
  const kv = effects.kv ?? [];
  return [
    now,
    id,
    owner,
    messages.map((m) => m.sessionKey),
    messages.map((m) => m.role),
    messages.map((m) => m.content),
    messages.map((m) => m.eventId ?? null),
    messages.map((m) => m.author ?? null),
    messages.map((m) => m.createdAt ?? now),
    messages.map((m) => (m.parts?.length ? JSON.stringify(m.parts) : null)),
    messages.map((m) => m.content.slice(0, 200)),
    outbox.map((o) => o.idempotencyKey),
    outbox.map((o) => o.sessionKey),
    outbox.map((o) => o.channel),
    outbox.map((o) => o.account),
    outbox.map((o) => o.payload),
    outbox.map((o) => o.eventId ?? null),
    kv.map((e) => e.namespace),
    kv.map((e) => e.key),
    kv.map((e) => e.value),
    // ttlMs 0 means no expiry, as kvSet has it.
    kv.map((e) => e.ttlMs || null),
  ];
}
