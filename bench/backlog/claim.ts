// The claim alone, in this process, against two real stores of one kind side by side: `lanes` conversations
// each with an event leased far into the future, and behind those events nothing in one store, `queued` events
// in the other. "blocked": a claim that finds nothing (what every wake-up and poll costs while those lanes
// wait). "one ready": a claim that finds the one event of a fresh conversation (then completes it, untimed;
// on SQLite the claim's own commit, an fsync, is most of it). The two stores take turns, call by call, so a
// neighbour's burst of load lands on both; microseconds per claim, the median of `count` calls each.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { Store } from "../../src/store/types.ts";
import { createTestDatabase } from "../../test/helpers/postgres.ts";

export interface ClaimCost {
  queued: number;
  blockedMicros: number;
  readyMicros: number;
}

/** A fresh, migrated store of the kind (a temporary SQLite file, or a new PostgreSQL database), and its removal. */
export async function openStore(kind: string): Promise<{ store: Store; drop(): Promise<void> }> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "clawgate-claims-"));
    const store = new SqliteStore(join(dir, "claims.db"));
    await store.migrate();
    return { store, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const db = await createTestDatabase("clawgate_bench");
  const store = new PostgresStore(db.url, { max: 4 });
  await store.migrate();
  return { store, drop: () => db.drop() };
}

const payload = JSON.stringify({ text: "x".repeat(600) });

async function seed(store: Store, lanes: number, queued: number) {
  const enqueue = (id: string, sessionKey: string) =>
    store.enqueueInbound({ id, sessionKey, payload, receivedAt: Date.now() });
  await Promise.all(Array.from({ length: lanes }, (_, i) => enqueue(`head${i}`, `lane${i}`)));
  await store.claimInbound({ owner: "hung", leaseMs: 86_400_000, limit: lanes });
  for (let done = 0; done < queued; done += 5000) {
    const batch = Math.min(5000, queued - done);
    await Promise.all(
      Array.from({ length: batch }, (_, k) => enqueue(`q${done + k}`, `lane${(done + k) % lanes}`)),
    );
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const out = await fn();
  return [out, Number(process.hrtime.bigint() - t) / 1000];
}

export async function measureClaims(
  kind: "sqlite" | "postgres",
  backlogs: number[],
  count: number,
  lanes: number,
): Promise<ClaimCost[]> {
  const opened = await Promise.all(backlogs.map(() => openStore(kind)));
  try {
    await Promise.all(opened.map(({ store }, i) => seed(store, lanes, backlogs[i]!)));
    const claim = (s: Store) => s.claimInbound({ owner: "bench", leaseMs: 30_000, limit: 8 });
    const blocked = backlogs.map(() => [] as number[]);
    const ready = backlogs.map(() => [] as number[]);
    for (const { store } of opened) for (let i = 0; i < 20; i++) await claim(store); // warm statement caches
    for (let i = 0; i < count; i++) {
      for (const k of i % 2 ? [...opened.keys()].reverse() : opened.keys()) {
        const [got, micros] = await timed(() => claim(opened[k]!.store));
        if (got.length) throw new Error(`a blocked lane handed out ${got[0]!.id}`);
        blocked[k]!.push(micros);
      }
    }
    for (let i = 0; i < count; i++) {
      for (const k of i % 2 ? [...opened.keys()].reverse() : opened.keys()) {
        const s = opened[k]!.store;
        await s.enqueueInbound({ id: `fresh${i}`, sessionKey: `fresh${i}`, payload, receivedAt: Date.now() });
        const [got, micros] = await timed(() => claim(s));
        if (got.length !== 1 || got[0]!.id !== `fresh${i}`)
          throw new Error(`expected fresh${i}, got ${got.map((x) => x.id).join(", ")}`);
        ready[k]!.push(micros);
        await s.completeInbound(got[0]!.id, "bench");
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return backlogs.map((queued, k) => ({
      queued,
      blockedMicros: median(blocked[k]!),
      readyMicros: median(ready[k]!),
    }));
  } finally {
    for (const { store, drop } of opened) {
      await store.close();
      await drop();
    }
  }
}
