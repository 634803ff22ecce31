// WAL frames (pages written) per group commit: the real SQLite store's enqueue against the baseline's one-table
// insert (baseline-server.ts), after 40,000 events in 64 conversations, 24 events per commit. A count, not a
// time: the same on a busy machine as on a quiet one. Every frame is a page write plus its share of the fsync,
// so this is what the SQLite part of bench:ingest pays per commit (docs/benchmarks.md).
//
//   node bench/ingest/wal-frames.ts [--against <another checkout>]
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({ options: { against: { type: "string" } } });
const BATCH = 24;
const BACKLOG = 40_000;
const MEASURED = 20;
const PAYLOAD = "x".repeat(800);
const FRAME_BYTES = 4096 + 24;

/** Event ids as the platforms make them: LINE's are time-ordered; Slack's begin with the channel or the time. */
const ID_STYLES: Record<string, (n: number) => string> = {
  "LINE (time-ordered)": (n) => `line:default:01B${n.toString(16).padStart(12, "0")}`,
  "Slack, channel first": (n) =>
    `slack:default:D${(n % 64).toString(16).padStart(8, "0")}:${1796236034 + n}.000100`,
  "Slack, time first": (n) =>
    `slack:default:${1796236034 + n}.000100:D${(n % 64).toString(16).padStart(8, "0")}`,
};
const lane = (n: number) => `line:default:U${(n % 64).toString(16).padStart(32, "0")}`;

async function gatewayFrames(root: string, id: (n: number) => string): Promise<number> {
  const { SqliteStore } = await import(resolve(root, "src/store/sqlite/store.ts"));
  const dir = mkdtempSync(join(tmpdir(), "clawgate-frames-"));
  const file = join(dir, "clawgate.db");
  const store = new SqliteStore(file);
  await store.migrate();
  let n = 0;
  // Enqueues started in one turn share one group commit: one transaction of BATCH events.
  const commit = () =>
    Promise.all(
      Array.from({ length: BATCH }, () => {
        const k = n++;
        return store.enqueueInbound({ id: id(k), sessionKey: lane(k), payload: PAYLOAD, receivedAt: 0 });
      }),
    );
  for (let i = 0; i < BACKLOG / BATCH; i++) await commit();
  const side = new DatabaseSync(file);
  side.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  for (let i = 0; i < MEASURED; i++) await commit();
  const frames = (statSync(`${file}-wal`).size - 32) / FRAME_BYTES / MEASURED;
  side.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return frames;
}

function baselineFrames(): number {
  const dir = mkdtempSync(join(tmpdir(), "clawgate-frames-"));
  const file = join(dir, "baseline.db");
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;");
  db.exec("CREATE TABLE events (id TEXT PRIMARY KEY, payload TEXT NOT NULL, received_at INTEGER NOT NULL)");
  const insert = db.prepare("INSERT OR IGNORE INTO events (id, payload, received_at) VALUES (?, ?, ?)");
  let n = 0;
  const commit = () => {
    db.exec("BEGIN IMMEDIATE");
    for (let j = 0; j < BATCH; j++) insert.run(ID_STYLES["LINE (time-ordered)"]!(n++), PAYLOAD, Date.now());
    db.exec("COMMIT");
  };
  for (let i = 0; i < BACKLOG / BATCH; i++) commit();
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  for (let i = 0; i < MEASURED; i++) commit();
  const frames = (statSync(`${file}-wal`).size - 32) / FRAME_BYTES / MEASURED;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return frames;
}

console.log(
  `WAL frames per commit of ${BATCH} events, after ${BACKLOG.toLocaleString("en")} in 64 conversations`,
);
console.log(`${"baseline (one table, LINE ids)".padEnd(44)} ${baselineFrames().toFixed(1).padStart(6)}`);
const roots: [string, string][] = [["this checkout", resolve(import.meta.dirname, "../..")]];
if (args.against) roots.push([args.against, resolve(args.against)]);
for (const [name, root] of roots)
  for (const [style, id] of Object.entries(ID_STYLES))
    console.log(
      `${`${name}: ${style}`.padEnd(44)} ${(await gatewayFrames(root, id)).toFixed(1).padStart(6)}`,
    );
