// A fresh, migrated store of each kind for tests that must hold on both: SQLite files in a temporary folder and
// PostgreSQL schemas in a database of the test file's own. Call at the top level of a test file: it registers
// the hooks that create the database and close every store it made.
import { join } from "node:path";
import { after, before } from "node:test";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { Store } from "../../src/store/types.ts";
import { tempDir } from "./gateway.ts";
import { createTestDatabase, type TestDatabase } from "./postgres.ts";

export interface StoresOfEachKind {
  /** A new store of `kind`, migrated; `shared` names a PostgreSQL schema (or SQLite file) several open at once. */
  open(kind: "sqlite" | "postgres", opts?: { shared?: string; max?: number }): Promise<Store>;
  /** Closes these stores now (they are no longer closed at the end). */
  close(stores: Store[]): Promise<void>;
}

export const STORE_KINDS = ["sqlite", "postgres"] as const;

export function storesOfEachKind(prefix: string): StoresOfEachKind {
  let db: TestDatabase | undefined;
  const open: Store[] = [];
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await Promise.allSettled(open.map((s) => s.close()));
    await db?.drop();
  });
  const dir = tempDir(`clawgate-${prefix}-`);
  let n = 0;
  return {
    async open(kind, opts = {}) {
      const name = opts.shared ?? `${prefix}${n++}`;
      const s =
        kind === "sqlite"
          ? new SqliteStore(join(dir, `${name}.db`))
          : new PostgresStore(db!.url, { schema: name, max: opts.max ?? 3 });
      open.push(s);
      await s.migrate();
      return s;
    },
    async close(stores) {
      await Promise.all(stores.map((s) => s.close()));
      for (const s of stores) {
        const i = open.indexOf(s);
        if (i >= 0) open.splice(i, 1);
      }
    },
  };
}
