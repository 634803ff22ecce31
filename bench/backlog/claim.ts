// The claim alone, in this process, against a real store: `lanes` conversations each with an event leased far
// into the future and `queued` events behind them. "blocked": a claim that finds nothing (what every wake-up
// and poll costs while those lanes wait). "one ready": a claim that finds the one event of a fresh conversation
// (then completes it, untimed). Microseconds per claim, the median of `count` calls.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PostgresStore } from "../../src/store/postgres/store.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import type { Store } from "../../src/store/types.ts";
import { createTestDatabase } from "../../test/helpers/postgres.ts";

export interface ClaimCost {
  blockedMicros: number;
  readyMicros: number;
}

async function openStore(kind: "sqlite" | "postgres"): Promise<{ store: Store; drop(): Promise<void> }> {
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

export async function measureClaims(
  kind: "sqlite" | "postgres",
  queued: number,
  count: number,
  lanes: number,
): Promise<ClaimCost> {
  const { store, drop } = await openStore(kind);
  try {
    const payload = JSON.stringify({ text: "x".repeat(600) });
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
    const claim = () => store.claimInbound({ owner: "bench", leaseMs: 30_000, limit: 8 });
    for (let i = 0; i < 20; i++) await claim(); // warm the statement caches
    const blocked: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = process.hrtime.bigint();
      const got = await claim();
      blocked.push(Number(process.hrtime.bigint() - t) / 1000);
      if (got.length) throw new Error(`a blocked lane handed out ${got[0]!.id}`);
    }
    const ready: number[] = [];
    for (let i = 0; i < count; i++) {
      await enqueue(`fresh${i}`, `fresh${i}`);
      const t = process.hrtime.bigint();
      const got = await claim();
      ready.push(Number(process.hrtime.bigint() - t) / 1000);
      if (got.length !== 1 || got[0]!.id !== `fresh${i}`)
        throw new Error(`expected fresh${i}, got ${got.map((x) => x.id)}`);
      await store.completeInbound(got[0]!.id, "bench");
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return { blockedMicros: median(blocked), readyMicros: median(ready) };
  } finally {
    await store.close();
    await drop();
  }
}
