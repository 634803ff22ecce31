// The one migration loop for both dialects. A dialect says only how to hold the database exclusively for the
// run (SQLite: one BEGIN IMMEDIATE transaction; PostgreSQL: a transaction holding an advisory lock, so replicas
// starting together apply each migration once) and how to read, apply and record a version. The loop and the
// version guard (refuse a schema from a newer clawgate) live here, so the two stores cannot drift apart.
import { pendingMigrations } from "./migration-plan.ts";

/** One exclusive migration run, inside one transaction: a failed step leaves nothing behind. */
export interface MigrationSession {
  /** The highest version recorded, 0 on a fresh database (creating the bookkeeping table if needed). */
  currentVersion(): Promise<number>;
  apply(sql: string): Promise<void>;
  record(version: number): Promise<void>;
}

export interface MigrationDialect {
  /** Runs `fn` holding the database exclusively; commits when it resolves, rolls back when it throws. */
  exclusive<T>(fn: (session: MigrationSession) => Promise<T>): Promise<T>;
}

/** Applies what `migrations` has beyond the database's version; returns the versions applied (1-based). */
export async function runMigrations(
  dialect: MigrationDialect,
  migrations: readonly string[],
): Promise<number[]> {
  return dialect.exclusive(async (session) => {
    const applied: number[] = [];
    for (const index of pendingMigrations(await session.currentVersion(), migrations)) {
      await session.apply(migrations[index]!);
      await session.record(index + 1);
      applied.push(index + 1);
    }
    return applied;
  });
}
