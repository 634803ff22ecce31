// One group commit's transaction on node:sqlite (the batching itself is src/store/group-commit.ts): every write
// of the batch runs in one BEGIN IMMEDIATE … COMMIT, so the batch pays one fsync, and each write gets its own
// outcome, so one failing write does not fail the others.
import type { DatabaseSync } from "node:sqlite";
import type { Sql } from "../sql.ts";

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Writes rarely fail (a constraint, a bug); when one does, the batch is rolled back and run again with a
 * savepoint around each write, so only the failing one is undone. A failed BEGIN or COMMIT (the file busy past
 * busy_timeout, a full disk) throws for the whole batch at once: none of it is durable, and trying again would
 * only block the event loop longer.
 */
export function commitWrites(db: DatabaseSync, ops: (() => unknown)[]): Outcome[] {
  let failed = false;
  const run = (op: () => unknown): Outcome => {
    try {
      return { ok: true, value: op() };
    } catch (err) {
      failed = true;
      throw err;
    }
  };
  try {
    return transaction(db, () => ops.map(run));
  } catch (err) {
    if (!failed) throw err;
    return transaction(db, () =>
      ops.map((op): Outcome => {
        db.exec("SAVEPOINT op");
        try {
          const value = op();
          db.exec("RELEASE op");
          return { ok: true, value };
        } catch (error) {
          db.exec("ROLLBACK TO op; RELEASE op");
          return { ok: false, error };
        }
      }),
    );
  }
}

// BEGIN IMMEDIATE takes the write lock up front, so two processes on one file never deadlock upgrading.
function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const out = fn();
    db.exec("COMMIT");
    return out;
  } catch (err) {
    db.exec("ROLLBACK");
    throw err;
  }
}

const reads = new WeakMap<Sql, boolean>();

/** A statement that only reads (it need not join a group commit); decided once per statement. */
export function isRead(q: Sql): boolean {
  let read = reads.get(q);
  if (read === undefined) {
    read = /^\s*SELECT\b/i.test(q.text);
    reads.set(q, read);
  }
  return read;
}
