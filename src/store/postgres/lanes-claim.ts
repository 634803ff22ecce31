// PostgreSQL's statements for queue lanes (src/store/lanes.ts), where several replicas write at once; one
// implementation for the inbox and the outbox, parameterised by LaneQueue.
//  - A claim locks due lane rows FOR UPDATE SKIP LOCKED, then, in a second statement (a fresh snapshot, so it
//    sees every commit made before those locks), leases each head FOR UPDATE SKIP LOCKED and moves the other
//    lanes to their true ready time. It never waits on a lock, so claims never deadlock.
//  - Completions, failures and retries mark their lane due after changing their row, with an upsert that waits
//    for the lane's row while a claim holds it, so they land after that claim's verdict.
//  - Enqueues must not serialize on a hot lane's row (two replicas' batches into one busy conversation would
//    each wait for the other's commit), so an enqueue takes no row lock: it holds a shared advisory lock on its
//    lane (LANE_LOCKS, hashtext(session_key)) while it inserts the lane's row if missing (ON CONFLICT DO
//    NOTHING). The one decision an uncommitted enqueue could contradict is "this lane is empty, delete its row":
//    a claim makes it only under the lane's exclusive advisory try-lock, taken before the snapshot it checks
//    emptiness in (deleteEmptyLanes). So an enqueue either committed before that snapshot (the lane is not
//    empty), or holds the shared lock (the try-lock fails and the row stays), or waits for the claim's commit
//    and then finds the row gone and inserts a fresh one.
//  - The inbox's enqueue opens lanes itself (it reports which it opened) and a trigger catches writers that do
//    not; every outbox insert (an enqueue, a completion's deliveries) opens its lane through the trigger alone,
//    inside the inserting statement.
import { type LaneQueue, laneColumns } from "../lanes.ts";
import type { Queue, Sql } from "../sql.ts";
import { NOW_MS } from "../sql.ts";

/**
 * Advisory-lock namespaces of lanes (the second key is hashtext(session_key)), as earlier releases used: the
 * inbox's for its lanes, the outbox's for its per-lane claim lock, so an outbox claim of the previous release
 * and this release's lane writes exclude each other during a rolling upgrade.
 */
export const LANE_LOCKS: Record<Queue, number> = { inbox: 0x636c6701, outbox: 0x636c6702 };
export const LANE_LOCK = LANE_LOCKS.inbox;

/** Opens the lanes of the rows in `rowsSql` (a relation with session_key) that have no row, under the lane lock. */
const openLanes = (rowsSql: string) => `
  INSERT INTO inbox_lanes (session_key, ready_at)
  SELECT k.session_key, ${NOW_MS} FROM (SELECT DISTINCT session_key FROM ${rowsSql}) k
    CROSS JOIN LATERAL (SELECT pg_advisory_xact_lock_shared(${LANE_LOCK}, hashtext(k.session_key))) held
  ON CONFLICT (session_key) DO NOTHING`;

/**
 * A safety net for writers that do not know about lanes: a replica still running the previous release during
 * a rolling upgrade inserts inbox rows without lane rows, and nothing would ever claim them once it stops. After
 * every INSERT into the inbox, each lane the statement added to gets its row, as an enqueue does. This
 * release's enqueue already did that in the same statement, so here it finds its own rows. The function keeps
 * the migration's search_path, so it finds this install's tables whoever's connection inserts.
 */
export const OPEN_LANES_TRIGGER = `
  CREATE FUNCTION inbox_open_lanes() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    ${openLanes("added")};
    RETURN NULL;
  END $$;
  CREATE TRIGGER inbox_open_lanes AFTER INSERT ON inbox REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION inbox_open_lanes();
`;

/**
 * How every outbox row gets its lane: after each INSERT into the outbox (this release's enqueue, the deliveries
 * inside an inbox completion, a previous release's insert during a rolling upgrade), in the same statement, each
 * lane it added to and that has no row is opened, under the shared lane lock, with the channel of its first new
 * row and due when that row is.
 */
export const OUTBOX_OPEN_LANES_TRIGGER = `
  CREATE FUNCTION outbox_open_lanes() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
  BEGIN
    INSERT INTO outbox_lanes (session_key, channel, ready_at)
    SELECT k.session_key, k.channel, k.available_at FROM (
        SELECT DISTINCT ON (session_key) session_key, channel, available_at FROM added ORDER BY session_key, id
      ) k
      CROSS JOIN LATERAL (SELECT pg_advisory_xact_lock_shared(${LANE_LOCKS.outbox}, hashtext(k.session_key))) held
    ON CONFLICT (session_key) DO NOTHING;
    RETURN NULL;
  END $$;
  CREATE TRIGGER outbox_open_lanes AFTER INSERT ON outbox REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_open_lanes();
`;

/**
 * $1 ids, $2 session keys, $3 payloads, $4 received_at, $6 aliases (arrays; an alias may be NULL), $5 updated_at:
 * the ids stored, and the lanes they opened. An item whose alias is stored already is a duplicate.
 */
export const INSERT_INBOUND: Sql = {
  name: "cg_inbox_enqueue_aliases",
  text: `WITH stored AS (
      INSERT INTO inbox (id, session_key, payload, received_at, available_at, updated_at)
      SELECT t.id, t.session_key, t.payload, t.received_at, ${NOW_MS}, $5
      FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $6::text[])
        WITH ORDINALITY AS t(id, session_key, payload, received_at, alias, ord)
      WHERE t.alias IS NULL OR NOT EXISTS (SELECT 1 FROM inbox k WHERE k.id = t.alias)
      ORDER BY t.ord
      ON CONFLICT (id) DO NOTHING RETURNING id, session_key
    ),
    opened AS (${openLanes("stored")} RETURNING session_key)
    SELECT s.id, s.session_key, o.session_key IS NOT NULL AS opened
    FROM stored s LEFT JOIN opened o USING (session_key)`,
};

/** A statement of `lane`'s queue returning its lane's columns (lanes.ts laneColumns), and that lane marked due in the same statement. */
export function withLaneDue(lane: LaneQueue, q: Sql): Sql {
  const cols = laneColumns(lane);
  return {
    ...(q.name ? { name: `${q.name}_due` } : {}),
    text: `WITH changed AS (${q.text}),
      due AS (
        INSERT INTO ${lane.lanes} (${cols}, ready_at)
        SELECT DISTINCT ON (session_key) ${cols}, ${NOW_MS} FROM changed
        ON CONFLICT (session_key) DO UPDATE SET ready_at = ${NOW_MS} WHERE ${lane.lanes}.ready_at > ${NOW_MS}
      )
      SELECT session_key FROM changed`,
  };
}

/**
 * $1 limit ($2 channels when `filtered`): due lanes, longest-waiting first, locked; lanes another claimer or a
 * writer holds are skipped. Filtered by channel, it reads the (channel, ready_at) index, so lanes of channels
 * this process cannot send cost it nothing.
 */
export function lockDueLanes(lane: LaneQueue, filtered: boolean): Sql {
  const only = filtered ? "channel = ANY($2::text[]) AND" : "";
  return {
    name: `cg_${lane.table}_lanes_due${filtered ? "_ch" : ""}`,
    text: `SELECT session_key FROM ${lane.lanes} WHERE ${only} ready_at <= ${NOW_MS}
    ORDER BY ready_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
  };
}

/**
 * $1 the locked lanes, $2 owner, $3 lease ms, $4 updated_at (outbox: $5 channels, NULL for all). Leases each
 * claimable head (src/store/lanes.ts laneVerdict, spelled in SQL) and moves the other lanes to their true ready
 * time; returns the leased rows, then one row per lane found empty (`empty_lane`, every other column NULL)
 * whose exclusive lane lock it took, for deleteEmptyLanes. An empty lane whose lock an enqueue holds stays as
 * it is: that enqueue is its next head. A head locked by someone else (its completion or failure in progress)
 * keeps its lane due: that writer marks it due again anyway once it commits. An outbox head of a channel not
 * asked for is left alone, its lane given the head's channel (lanes.ts).
 *
 * The head is read as a range on session_key ordered by (session_key, key), which only the (session_key, key)
 * indexes inbox_open_lane / outbox_open_lane deliver without a sort: written as `session_key = … ORDER BY seq`
 * the planner may walk inbox_open_seq in seq order filtering on the lane instead, and a fresh lane behind a
 * 100,000-row lane then cost 100,000 rows (measured: 17 ms against 0.1 ms).
 */
export function leaseHeads(lane: LaneQueue, columns: string[]): Sql {
  const now = NOW_MS;
  const { table, lanes, key } = lane;
  const channel = lane.channel ? ", h.channel" : "";
  const wanted = lane.channel ? "AND ($5::text[] IS NULL OR h.channel = ANY($5::text[]))" : "";
  return {
    name: `cg_${table}_lanes_lease`,
    text: `WITH heads AS (
      SELECT l.session_key, h.k, h.state, h.available_at, h.lease_until${channel},
        (SELECT MAX(j.lease_until) FROM ${table} j
          WHERE j.session_key = l.session_key AND j.state = 'leased' AND j.${key} <> h.k
            AND j.lease_until >= ${now}) AS other_until
      FROM unnest($1::text[]) AS l(session_key)
      LEFT JOIN LATERAL (
        SELECT i.${key} AS k, i.state, i.available_at, i.lease_until${lane.channel ? ", i.channel" : ""} FROM ${table} i
        WHERE i.session_key >= l.session_key AND i.session_key <= l.session_key
          AND i.state IN ('pending', 'leased')
        ORDER BY i.session_key, i.${key} LIMIT 1
      ) h ON true
    ),
    picked AS (
      SELECT i.${key} AS k FROM ${table} i JOIN heads h ON h.k = i.${key}
      WHERE h.other_until IS NULL AND i.state IN ('pending', 'leased') ${wanted}
        AND ((i.state = 'pending' AND i.available_at <= ${now}) OR (i.state = 'leased' AND i.lease_until < ${now}))
      FOR UPDATE OF i SKIP LOCKED
    ),
    leased AS (
      UPDATE ${table} i SET state = 'leased', lease_owner = $2, lease_until = ${now} + $3,
        attempts = i.attempts + 1, updated_at = $4
      FROM picked p WHERE i.${key} = p.k
      RETURNING ${columns.map((c) => `i.${c}`).join(", ")}
    ),
    emptied AS (
      SELECT session_key FROM heads
      WHERE k IS NULL AND pg_try_advisory_xact_lock(${LANE_LOCKS[table]}, hashtext(session_key))
    ),
    moved AS (
      UPDATE ${lanes} l SET ready_at = CASE
          WHEN p.k IS NOT NULL THEN ${now} + $3 + 1
          WHEN h.other_until IS NOT NULL THEN h.other_until + 1
          WHEN h.state = 'pending' AND h.available_at > ${now} THEN h.available_at
          WHEN h.state = 'leased' AND h.lease_until >= ${now} THEN h.lease_until + 1
          ELSE l.ready_at END${lane.channel ? ", channel = h.channel" : ""}
      FROM heads h LEFT JOIN picked p ON p.k = h.k
      WHERE l.session_key = h.session_key AND h.k IS NOT NULL
    )
    SELECT *, NULL::text AS empty_lane FROM leased
    UNION ALL
    SELECT ${columns.map(() => "NULL").join(", ")}, session_key FROM emptied`,
  };
}

/**
 * $1 lanes found empty under their exclusive lane lock: delete those still empty. A separate statement, so its
 * snapshot is taken after the locks and sees every enqueue that finished before them.
 */
export function deleteEmptyLanes(lane: LaneQueue): Sql {
  return {
    name: `cg_${lane.table}_lanes_delete_empty`,
    text: `DELETE FROM ${lane.lanes} l WHERE l.session_key = ANY($1::text[])
    AND NOT EXISTS (
      SELECT 1 FROM ${lane.table} i
      WHERE i.session_key >= l.session_key AND i.session_key <= l.session_key
        AND i.state IN ('pending', 'leased'))`,
  };
}
