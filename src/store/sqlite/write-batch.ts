// One group commit's transaction on node:sqlite (the batching itself is src/store/group-commit.ts): the writes
// of the batch run in one BEGIN IMMEDIATE … COMMIT, so they pay one fsync, and each write gets its own outcome,
// so one failing write does not fail the others.
import type { DatabaseSync } from "node:sqlite";

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs writes from the head of `ops` until `budgetMs` of statements have run (at least one write), commits
 * them, and returns their outcomes: the writes after those are left for the next transaction. node:sqlite is
 * synchronous, so a transaction blocks the event loop from BEGIN to the COMMIT's fsync; the budget bounds that
 * block (5,000 enqueues from one webhook would otherwise hold it for a sixth of a second), at the cost of one
 * more fsync for each budget's worth of statements.
 *
 * Writes rarely fail (a constraint, a bug); when one does, the transaction is rolled back and the same writes
 * run again with a savepoint around each, so only the failing one is undone. A failed BEGIN or COMMIT (the
 * file busy past busy_timeout, a full disk) throws for the whole batch at once: none of it is durable, and
 * trying again would only block the event loop longer.
 */
export function commitWrites(db: DatabaseSync, ops: (() => unknown)[], budgetMs = Infinity): Outcome[] {
  let failed = false;
  let taken = 0;
  const started = performance.now();
  try {
    return transaction(db, () => {
      const out: Outcome[] = [];
      do {
        try {
          out.push({ ok: true, value: ops[taken]!() });
        } catch (err) {
          failed = true;
          throw err;
        }
        taken++;
      } while (taken < ops.length && performance.now() - started < budgetMs);
      return out;
    });
  } catch (err) {
    if (!failed) throw err;
    // The failing write was the last one taken: run those writes again, each in its own savepoint, then go on
    // while the budget lasts.
    return transaction(db, () => {
      const out: Outcome[] = [];
      for (const op of ops) {
        if (out.length > taken && performance.now() - started >= budgetMs) break;
        db.exec("SAVEPOINT op");
        try {
          const value = op();
          db.exec("RELEASE op");
          out.push({ ok: true, value });
        } catch (error) {
          db.exec("ROLLBACK TO op; RELEASE op");
          out.push({ ok: false, error });
        }
      }
      return out;
    });
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
