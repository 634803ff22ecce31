// SQLite's inbox keeps a lane's order without indexing every queued item by lane. An item enqueued behind an
// unfinished item of its lane "waits behind" that item (`behind` = its seq) and stays out of the lane index
// (inbox_open_lane covers only items that may head their lane); when the item it waits for finishes (done or
// dead), the waiting one is let in, in the same transaction. The lane's newest item is kept on its lane row
// (`inbox_lanes.tail`), so an enqueue finds what to wait behind with two key lookups.
//
// Why: an index by (lane, seq) puts each lane's newest entry on its own page, so a group commit of n events in
// n busy lanes rewrote about n index pages, more than half of the WAL frames of each commit (bench/ingest,
// docs/benchmarks.md). The `behind` index gets its new entries at its right edge (an item waits behind a recent
// one), a page or two per commit, and the lane rows are a few pages in all.
//
// Everything else about lanes is unchanged (src/store/lanes.ts): the head of a lane is its oldest unfinished
// item that waits for nothing, and an item revived by an operator (dead → pending) never waits, so it heads
// its lane again as before. Rows from before this migration wait for nothing, and lane rows without a tail make
// the next enqueue wait for nothing: both are the old behaviour, which stays correct (the oldest first).
import type { SQLInputValue } from "node:sqlite";
import type { Row } from "../rows.ts";
import type { EnqueueResult, NewInboxItem } from "../types.ts";

/** The statements this needs, run on the store's connection inside its current transaction. */
export interface Statements {
  get(sql: string, ...args: SQLInputValue[]): Row | undefined;
  run(sql: string, ...args: SQLInputValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
}

/** The SQLite migration: the column, the lane's tail, and the lane index without the waiting items. */
export const INBOX_WAITING_MIGRATION = `
  ALTER TABLE inbox ADD COLUMN behind INTEGER;
  ALTER TABLE inbox_lanes ADD COLUMN tail INTEGER;
  DROP INDEX inbox_open_lane;
  CREATE INDEX inbox_open_lane ON inbox(session_key, seq) WHERE state IN ('pending', 'leased') AND behind IS NULL;
  CREATE INDEX inbox_waiting ON inbox(behind) WHERE behind IS NOT NULL;
`;

/** The lane-head condition that matches the partial index above. */
export const HEADS_ONLY = "behind IS NULL";

const open = (state: unknown) => state === "pending" || state === "leased";

/**
 * Inserts an item (ignored when its id is known: "duplicate"). It waits behind the lane's newest item while
 * that one is unfinished. "inserted": the item opened its lane (a claimer should look); "queued": the lane had a
 * row already, which completions and claims keep due (lanes.ts).
 */
export function insertInbound(s: Statements, it: NewInboxItem, now: number): EnqueueResult {
  if (it.alias !== undefined && s.get(`SELECT 1 AS known FROM inbox WHERE id = ?`, it.alias))
    return "duplicate";
  const lane = s.get(`SELECT tail FROM inbox_lanes WHERE session_key = ?`, it.sessionKey);
  const tail = lane?.tail ?? null;
  const behind =
    tail !== null && open(s.get(`SELECT state FROM inbox WHERE seq = ?`, tail as number)?.state)
      ? (tail as number)
      : null;
  const inserted = s.run(
    `INSERT OR IGNORE INTO inbox (id, session_key, payload, received_at, available_at, updated_at, behind)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    it.id,
    it.sessionKey,
    it.payload,
    it.receivedAt,
    now,
    now,
    behind,
  );
  if (inserted.changes !== 1) return "duplicate";
  const seq = inserted.lastInsertRowid;
  if (!lane) {
    s.run(`INSERT INTO inbox_lanes (session_key, ready_at, tail) VALUES (?, ?, ?)`, it.sessionKey, now, seq);
    return "inserted";
  }
  s.run(`UPDATE inbox_lanes SET tail = ? WHERE session_key = ?`, seq, it.sessionKey);
  return "queued";
}

/**
 * After an item changed state (`row`: its seq and new state): if it finished, the item waiting behind it may
 * now head the lane. An item let in that has itself finished (only an operator could have done that) lets in
 * the next one as well.
 */
export function afterInboxChange(s: Statements, row: Row): void {
  let state = row.state;
  let seq = row.seq as number | bigint | null;
  while (seq !== null && seq !== undefined && (state === "done" || state === "dead")) {
    // `behind IS NOT NULL` repeats the partial index's condition, so SQLite uses inbox_waiting.
    const next = s.get(
      `UPDATE inbox SET behind = NULL WHERE behind = ? AND behind IS NOT NULL RETURNING seq, state`,
      seq,
    );
    if (!next) return;
    seq = next.seq as number;
    state = next.state;
    if (open(state)) return;
  }
}
