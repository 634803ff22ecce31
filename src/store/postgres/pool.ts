// The connection pool of one replica, from the database URL: `pool_max` and `schema` in its query are ours, not
// the driver's, so they are taken out before the URL reaches it.
import pg from "pg";

export interface PostgresStoreOptions {
  /** Connections in this replica's pool (default 10, or `pool_max` in the URL's query). */
  max?: number;
  /** Use this schema instead of `public` (several installs, or tests, in one database). */
  schema?: string;
  /** Told about errors on idle connections (the pool reconnects on its own). */
  onError?: (err: Error) => void;
}

export function openPool(url: string, opts: PostgresStoreOptions): { pool: pg.Pool; schema?: string } {
  const parsed = new URL(url);
  const poolMax = Number(parsed.searchParams.get("pool_max") ?? "");
  const schema = opts.schema ?? parsed.searchParams.get("schema") ?? undefined;
  parsed.searchParams.delete("pool_max");
  parsed.searchParams.delete("schema");
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`database schema "${schema}" must be a lower-case SQL identifier (a-z, 0-9, _)`);
  }
  const pool = new pg.Pool({
    connectionString: parsed.toString(),
    max: opts.max ?? (Number.isInteger(poolMax) && poolMax > 0 ? poolMax : 10),
    application_name: "clawgate",
    options: schema ? `-c search_path=${schema}` : undefined,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection dying (server restart, network) must not crash the process; the next query reconnects.
  pool.on("error", (err) => opts.onError?.(err));
  return schema === undefined ? { pool } : { pool, schema };
}
