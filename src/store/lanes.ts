// Inbox lanes: one row per session lane that may have unfinished items, with `ready_at`, a time no later than
// the moment its oldest unfinished item becomes claimable. A claim reads due lanes by index (ready_at <= now)
// instead of scanning every unfinished row of every lane, so its cost does not grow with a backlog held behind
// items in flight, and an enqueue into a lane that already has a row wakes no claimer.
//
// The one invariant: while a lane has an unfinished item it has a row, and that row's ready_at is never later
// than the truth. Everything that can make a lane ready sooner (an enqueue opening the lane, a completion, a
// failure, an operator's retry) sets ready_at to now in the same transaction; only a claim, which looks at the
// lane's real head while holding the lane, moves ready_at later (or deletes the row of an empty lane). A lease
// extension leaves ready_at at the old expiry: the claim then finds the lease live and moves it on, once per
// lease period.

import type { Sql } from "./sql.ts";
import * as SQL from "./sql.ts";

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
 * Ready sooner, SQLite's spelling: $1 session key. Never moves a lane later. PostgreSQL runs the same upsert
 * inside the statement that changed the row (postgres/lanes-claim.ts withLaneDue).
 */
export const laneDue: Sql = {
  text: `INSERT INTO inbox_lanes (session_key, ready_at) VALUES ($1, {now})
    ON CONFLICT (session_key) DO UPDATE SET ready_at = {now} WHERE inbox_lanes.ready_at > {now}`,
};

/** The inbox statements that can make a lane ready sooner, naming the lane they changed (to mark it due). */
const returningLane = (q: Sql): Sql => ({
  text: `${q.text} RETURNING session_key`,
  ...(q.name ? { name: `${q.name}_lane` } : {}),
});
export const failInbox = returningLane(SQL.fail.inbox);
export const retryDeadInbox = returningLane(SQL.retryDead.inbox);
export const retryAllDeadInbox = returningLane(SQL.retryAllDead.inbox);

// The SQLite claim's statements (PostgreSQL's claim is one statement of its own). They take the claim's clock
// as a parameter, so every step of one claim judges the same instant.

/** $1 now, $2 limit: the lanes due, longest-waiting first. */
export const dueLanes: Sql = {
  text: `SELECT session_key FROM inbox_lanes WHERE ready_at <= $1 ORDER BY ready_at LIMIT $2`,
};

/** $1 session key: the lane's oldest unfinished item. */
export const laneHead: Sql = {
  text: `SELECT seq, state, available_at, lease_until FROM inbox
    WHERE session_key = $1 AND state IN ('pending', 'leased') ORDER BY seq LIMIT 1`,
};

/**
 * $1 session key, $2 the head's seq, $3 now: until when another item of the lane holds a live lease (possible
 * only after an operator revived an earlier, dead item of a lane whose later item was in flight).
 */
export const otherLease: Sql = {
  text: `SELECT MAX(lease_until) AS until FROM inbox
    WHERE session_key = $1 AND state = 'leased' AND seq <> $2 AND lease_until >= $3`,
};

export const setLaneReady: Sql = { text: `UPDATE inbox_lanes SET ready_at = $2 WHERE session_key = $1` };
export const deleteLane: Sql = { text: `DELETE FROM inbox_lanes WHERE session_key = $1` };

export interface LaneHead {
  seq: number;
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
