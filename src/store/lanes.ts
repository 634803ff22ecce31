// Queue lanes: one row per session lane that may have unfinished items, with `ready_at`, a time no later than
// the moment its oldest unfinished item becomes claimable. A claim reads due lanes by index (ready_at <= now)
// instead of scanning every unfinished row of every lane, so its cost does not grow with a backlog held behind
// items in flight (or behind a failing delivery waiting for its retry), and an enqueue into a lane that already
// has a row wakes no claimer. The inbox has `inbox_lanes`, the outbox `outbox_lanes`; one implementation,
// parameterised by LaneQueue, serves both.
//
// The one invariant: while a lane has an unfinished item it has a row, and that row's ready_at is never later
// than the truth. Everything that can make a lane ready sooner (an enqueue opening the lane, a completion, a
// failure, an operator's retry) sets ready_at to now in the same transaction; only a claim, which looks at the
// lane's real head while holding the lane, moves ready_at later (or deletes the row of an empty lane). A lease
// extension leaves ready_at at the old expiry: the claim then finds the lease live and moves it on, once per
// lease period. Dead items are not unfinished: they block nothing, so discarding one changes no lane.
//
// Outbox lanes also carry their head's channel: a process claims only deliveries of channels it can send, and
// reads only those channels' lanes (by index), so a lane of a channel it lacks neither costs it anything nor
// spins. A session key names its channel (formatSessionKey), so a lane's items are all of one channel; should a
// lane ever hold another, the claim that finds a head of another channel moves the lane's channel to it.

import type { Queue, Sql } from "./sql.ts";
import * as SQL from "./sql.ts";
import { HEADS_ONLY } from "./sqlite/inbox-waiting.ts";

/** What differs between the two queues' lanes. */
export interface LaneQueue {
  table: Queue;
  lanes: "inbox_lanes" | "outbox_lanes";
  /** The queue-order key. */
  key: "seq" | "id";
  /** Lanes carry their head's channel (the outbox). */
  channel: boolean;
}

export const LANE_QUEUES: Record<Queue, LaneQueue> = {
  inbox: { table: "inbox", lanes: "inbox_lanes", key: "seq", channel: false },
  outbox: { table: "outbox", lanes: "outbox_lanes", key: "id", channel: true },
};

/** The columns that name a lane, as a changed row returns them and a lane row is opened with. */
export const laneColumns = (lane: LaneQueue): string =>
  lane.channel ? "session_key, channel" : "session_key";

/** The migration both dialects apply; it gives every lane that already has unfinished rows its row, due now. */
export function inboxLanesTable(dialect: "sqlite" | "postgres"): string {
  const ms = dialect === "sqlite" ? "INTEGER" : "BIGINT";
  const rowid = dialect === "sqlite" ? " WITHOUT ROWID" : "";
  return `
  CREATE TABLE inbox_lanes (
    session_key TEXT PRIMARY KEY,
    ready_at ${ms} NOT NULL
  )${rowid};
  CREATE INDEX inbox_lanes_ready ON inbox_lanes(ready_at, session_key);
  CREATE INDEX inbox_leased_lane ON inbox(session_key) WHERE state = 'leased';
  INSERT INTO inbox_lanes (session_key, ready_at)
    SELECT DISTINCT session_key, 0 FROM inbox WHERE state IN ('pending', 'leased');
  `;
}

/**
 * Outbox lanes, for both dialects. `openTrigger` opens the lane of every outbox row inserted from then on,
 * whoever inserts it (an enqueue, a completion's deliveries, a replica of the previous release during a rolling
 * upgrade); it is created before the backlog is read, so on PostgreSQL its table lock holds back inserts until
 * the migration commits and none falls between the two. Every lane with unfinished rows gets its row, due now,
 * with its head's channel. Two lane indexes: all channels by ready time, and one channel's by ready time.
 */
export function outboxLanesTable(dialect: "sqlite" | "postgres", openTrigger: string): string {
  const ms = dialect === "sqlite" ? "INTEGER" : "BIGINT";
  const rowid = dialect === "sqlite" ? " WITHOUT ROWID" : "";
  return `
  CREATE TABLE outbox_lanes (
    session_key TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    ready_at ${ms} NOT NULL
  )${rowid};
  CREATE INDEX outbox_lanes_ready ON outbox_lanes(ready_at, session_key);
  CREATE INDEX outbox_lanes_channel_ready ON outbox_lanes(channel, ready_at);
  CREATE INDEX outbox_leased_lane ON outbox(session_key) WHERE state = 'leased';
  ${openTrigger}
  INSERT INTO outbox_lanes (session_key, channel, ready_at)
    SELECT o.session_key, o.channel, 0 FROM outbox o
    WHERE o.state IN ('pending', 'leased') AND NOT EXISTS (
      SELECT 1 FROM outbox j WHERE j.session_key = o.session_key AND j.state IN ('pending', 'leased') AND j.id < o.id);
  `;
}

/** SQLite's outbox trigger: a row inserted into a lane without a row opens it, ready when the row is. */
export const SQLITE_OUTBOX_OPEN_LANE = `
  CREATE TRIGGER outbox_open_lane AFTER INSERT ON outbox
  BEGIN
    INSERT INTO outbox_lanes (session_key, channel, ready_at)
      SELECT NEW.session_key, NEW.channel, NEW.available_at
      WHERE NOT EXISTS (SELECT 1 FROM outbox_lanes WHERE session_key = NEW.session_key);
  END;`;

/** A statement that can make a lane ready sooner, naming the lane it changed (to mark it due). */
// An inbox row also returns its key and new state: SQLite lets the item waiting behind a finished one in
// (src/store/sqlite/inbox-waiting.ts).
const returningLane = (q: Sql, lane: LaneQueue): Sql => ({
  text: `${q.text} RETURNING ${laneColumns(lane)}${lane.table === "inbox" ? ", seq, state" : ""}`,
  ...(q.name ? { name: `${q.name}_lane` } : {}),
});

/** Per queue, the statements that free or revive an item, returning its lane (SQL.completeInbound already does). */
export const laneChanges = {
  inbox: {
    fail: returningLane(SQL.fail.inbox, LANE_QUEUES.inbox),
    retryDead: returningLane(SQL.retryDead.inbox, LANE_QUEUES.inbox),
    retryAllDead: returningLane(SQL.retryAllDead.inbox, LANE_QUEUES.inbox),
  },
  outbox: {
    complete: returningLane(SQL.completeOutbound, LANE_QUEUES.outbox),
    fail: returningLane(SQL.fail.outbox, LANE_QUEUES.outbox),
    retryDead: returningLane(SQL.retryDead.outbox, LANE_QUEUES.outbox),
    retryAllDead: returningLane(SQL.retryAllDead.outbox, LANE_QUEUES.outbox),
  },
};

// SQLite's statements (PostgreSQL's are in postgres/lanes-claim.ts). The claim's take the claim's clock as a
// parameter, so every step of one claim judges the same instant.

export interface SqliteLaneStatements {
  /** Ready sooner: $1 session key ($2 channel). Never moves a lane later. */
  laneDue: Sql;
  /**
   * $1 session key, $2 now: the lane's oldest unfinished item (`k` its key), and `other_until`, until when
   * another item of the lane holds a live lease (possible only after an operator revived an earlier, dead item
   * of a lane whose later item was in flight).
   */
  laneHead: Sql;
  /** $1 owner, $2 lease until, $3 updated_at, $4 key. */
  lease: Sql;
  setLaneReady: Sql;
  setLaneChannel: Sql;
  deleteLane: Sql;
}

function sqliteLaneStatements(lane: LaneQueue): SqliteLaneStatements {
  const { table, lanes, key } = lane;
  // An inbox item waiting behind another of its lane is no head (src/store/sqlite/inbox-waiting.ts).
  const open = `state IN ('pending', 'leased')${table === "inbox" ? ` AND ${HEADS_ONLY}` : ""}`;
  const values = lane.channel ? "$1, $2, {now}" : "$1, {now}";
  return {
    laneDue: {
      text: `INSERT INTO ${lanes} (${laneColumns(lane)}, ready_at) VALUES (${values})
    ON CONFLICT (session_key) DO UPDATE SET ready_at = {now} WHERE ${lanes}.ready_at > {now}`,
    },
    laneHead: {
      text: `SELECT h.*, (SELECT MAX(j.lease_until) FROM ${table} j
        WHERE j.session_key = $1 AND j.state = 'leased' AND j.${key} <> h.k AND j.lease_until >= $2) AS other_until
    FROM (SELECT ${key} AS k, state, available_at, lease_until${lane.channel ? ", channel" : ""} FROM ${table}
      WHERE session_key = $1 AND ${open} ORDER BY ${key} LIMIT 1) h`,
    },
    lease: {
      text: `UPDATE ${table} SET state = 'leased', lease_owner = $1, lease_until = $2, attempts = attempts + 1,
    updated_at = $3 WHERE ${key} = $4 RETURNING *`,
    },
    setLaneReady: { text: `UPDATE ${lanes} SET ready_at = $2 WHERE session_key = $1` },
    setLaneChannel: { text: `UPDATE ${lanes} SET channel = $2 WHERE session_key = $1` },
    deleteLane: { text: `DELETE FROM ${lanes} WHERE session_key = $1` },
  };
}

export const sqliteLanes: Record<Queue, SqliteLaneStatements> = {
  inbox: sqliteLaneStatements(LANE_QUEUES.inbox),
  outbox: sqliteLaneStatements(LANE_QUEUES.outbox),
};

/**
 * $1 now, $2 limit, then the channels (`channels` of them; null: every channel): the lanes due, longest-waiting
 * first, with their channel.
 */
export function dueLanes(lane: LaneQueue, channels: number | null): Sql {
  const only =
    channels === null
      ? ""
      : `AND channel IN (${Array.from({ length: channels }, (_, i) => `$${i + 3}`).join(", ")})`;
  return {
    text: `SELECT session_key${lane.channel ? ", channel" : ""} FROM ${lane.lanes}
    WHERE ready_at <= $1 ${only} ORDER BY ready_at LIMIT $2`,
  };
}

export interface LaneHead {
  state: "pending" | "leased";
  availableAt: number;
  leaseUntil: number | null;
}

/**
 * What a claim does with a lane it holds: lease its head, or move the lane's ready_at to when the head can
 * next be claimed. A lease counts as expired once `lease_until < now`, so its lane is due one millisecond later.
 * PostgreSQL's claim (postgres/lanes-claim.ts) spells the same rule in SQL.
 */
export function laneVerdict(
  head: LaneHead,
  otherLeaseUntil: number | null,
  now: number,
): { claim: true } | { claim: false; readyAt: number } {
  if (otherLeaseUntil !== null && otherLeaseUntil >= now)
    return { claim: false, readyAt: otherLeaseUntil + 1 };
  if (head.state === "pending")
    return head.availableAt <= now ? { claim: true } : { claim: false, readyAt: head.availableAt };
  const until = head.leaseUntil ?? 0;
  return until < now ? { claim: true } : { claim: false, readyAt: until + 1 };
}
