// Chooses the store from a database URL: postgres:// goes to PostgreSQL, anything else is a SQLite path.
import type { Store } from "./types.ts";

export async function openStore(url: string): Promise<Store> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    // Loaded on demand so an embedded install never touches the pg driver.
    const modulePath = "./postgres/store.ts";
    const mod = await import(modulePath).catch((err: unknown) => {
      throw new Error(`PostgreSQL store is not available in this build: ${(err as Error).message}`);
    });
    const store: Store = new mod.PostgresStore(url);
    await store.migrate();
    return store;
  }
  const { SqliteStore } = await import("./sqlite/store.ts");
  const store = new SqliteStore(url.replace(/^sqlite:(\/\/)?/, ""));
  await store.migrate();
  return store;
}
