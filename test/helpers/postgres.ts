// Fresh PostgreSQL databases for tests and benchmarks: each caller gets its own database, dropped afterwards,
// so test files running in parallel never see each other's rows. PostgreSQL must answer on
// CLAWGATE_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres); there is no silent skip.
import { randomBytes } from "node:crypto";
import pg from "pg";

export const ADMIN_URL = process.env.CLAWGATE_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** postgres:// URL of the fresh database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 5000 });
  try {
    await c.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL does not answer at ${ADMIN_URL} (${(err as Error).message}). The PostgreSQL store tests need ` +
        "a real server: run `bash .ci/prepare-services` (starts one on 127.0.0.1:5432) or point " +
        "CLAWGATE_TEST_PG_URL at one (a superuser URL whose database exists).",
    );
  }
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createTestDatabase(prefix = "clawgate_test"): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}
