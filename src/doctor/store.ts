// The store: SQLite opened read-only (doctor never creates or migrates it), or PostgreSQL with the settings that
// matter for the promises (synchronous_commit) and for the pool (max_connections).
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { failed, ok, warn } from "../channels/sdk/doctor.ts";
import type { DoctorCheck } from "../channels/types.ts";
import { redactUrl } from "../security/url-guard.ts";
import { postgresMigrations } from "../store/postgres/migrations.ts";
import { sqliteMigrations } from "../store/sqlite/migrations.ts";

/** Oldest PostgreSQL release still supported upstream. */
const MIN_PG_MAJOR = 13;
const DEFAULT_POOL = 10;

export async function storeChecks(url: string): Promise<DoctorCheck[]> {
  return /^postgres(ql)?:\/\//.test(url)
    ? postgresChecks(url)
    : [sqliteCheck(url.replace(/^sqlite:(\/\/)?/, ""))];
}

function behind(version: number, latest: number): string {
  return version < latest ? `; ${latest - version} migration(s) will be applied at start` : "";
}

export function sqliteCheck(path: string): DoctorCheck {
  const title = "Store (SQLite)";
  if (!existsSync(path)) return ok("store", title, `${path} does not exist yet; start creates it`);
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const has = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
      .get();
    const version = has
      ? Number(db.prepare(`SELECT MAX(version) AS v FROM schema_migrations`).get()?.v ?? 0)
      : 0;
    if (version > sqliteMigrations.length) {
      return failed(
        "store",
        title,
        `${path} has schema version ${version}, newer than this clawgate (${sqliteMigrations.length})`,
        "upgrade clawgate to the version that wrote this database",
      );
    }
    return ok(
      "store",
      title,
      `${path}, schema version ${version}${behind(version, sqliteMigrations.length)}`,
    );
  } catch (err) {
    return failed(
      "store",
      title,
      `cannot open ${path}: ${(err as Error).message}`,
      "check that the file is a clawgate database and readable by this user (restore it from a backup if it is damaged), or set database.url",
    );
  } finally {
    db?.close();
  }
}

export async function postgresChecks(url: string): Promise<DoctorCheck[]> {
  const parsed = new URL(url);
  const pool = Number(parsed.searchParams.get("pool_max") ?? "") || DEFAULT_POOL;
  const schema = parsed.searchParams.get("schema");
  parsed.searchParams.delete("pool_max");
  parsed.searchParams.delete("schema");
  const shown = redactUrl(url);
  const client = new pg.Client({ connectionString: parsed.toString(), connectionTimeoutMillis: 5000 });
  const title = "Store (PostgreSQL)";
  try {
    await client.connect();
  } catch (err) {
    return [
      failed(
        "store",
        title,
        `cannot connect to ${shown}: ${(err as Error).message}`,
        "start PostgreSQL or fix database.url (host, port, user, password, database name)",
      ),
    ];
  }
  try {
    const show = async (name: string) => String((await client.query(`SHOW ${name}`)).rows[0]?.[name] ?? "");
    const version = await show("server_version");
    const major = Number.parseInt(version, 10);
    const table = schema ? `${schema}.schema_migrations` : "schema_migrations";
    const applied = await client
      .query(`SELECT COALESCE(MAX(version), 0) AS v FROM ${table}`)
      .then((r) => Number(r.rows[0]?.v ?? 0))
      .catch(() => 0);
    const out: DoctorCheck[] = [
      major < MIN_PG_MAJOR
        ? warn(
            "store",
            title,
            `PostgreSQL ${version} at ${shown} is past its end of life`,
            `upgrade PostgreSQL to ${MIN_PG_MAJOR} or later`,
          )
        : ok(
            "store",
            title,
            `PostgreSQL ${version} at ${shown}, schema version ${applied}${behind(applied, postgresMigrations.length)}`,
          ),
    ];
    const sync = await show("synchronous_commit");
    out.push(
      sync === "off"
        ? warn(
            "store.synchronous-commit",
            "PostgreSQL synchronous_commit",
            "synchronous_commit is off: a crash of PostgreSQL can lose messages the platforms were told were received",
            "set synchronous_commit = on (postgresql.conf, or ALTER ROLE … SET synchronous_commit = on)",
          )
        : ok("store.synchronous-commit", "PostgreSQL synchronous_commit", sync),
    );
    const max = Number(await show("max_connections"));
    out.push(
      max < pool + 3
        ? warn(
            "store.connections",
            "PostgreSQL connections",
            `max_connections is ${max}, but one clawgate opens up to ${pool} (pool_max) and each replica as many`,
            `raise max_connections, or lower pool_max in database.url (e.g. ?pool_max=${Math.max(1, max - 3)})`,
          )
        : ok(
            "store.connections",
            "PostgreSQL connections",
            `max_connections ${max}; pool up to ${pool} per replica (room for ${Math.floor(max / pool)})`,
          ),
    );
    return out;
  } finally {
    await client.end().catch(() => {});
  }
}
