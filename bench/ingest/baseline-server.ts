// The baseline: the least a durable webhook receiver can do on this machine. Plain node:http, read the body,
// check the HMAC signature in constant time, parse it, and commit the event to SQLite (WAL, synchronous=FULL)
// with a group commit: inserts arriving in one event-loop turn share one transaction; answer 200 after it.
// Run as a child of run.ts; reports its URL over IPC and exits on "stop".
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { LINE_CHANNEL_SECRET } from "./payload.ts";

const dbPath = process.argv[2];
if (!dbPath) throw new Error("usage: baseline-server.ts <sqlite file>");

const db = new DatabaseSync(dbPath);
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
db.exec(
  "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, payload TEXT NOT NULL, received_at INTEGER NOT NULL)",
);
const insert = db.prepare("INSERT OR IGNORE INTO events (id, payload, received_at) VALUES (?, ?, ?)");

let pending: { id: string; payload: string; done: (ok: boolean) => void }[] = [];
let scheduled = false;

function flush() {
  scheduled = false;
  const batch = pending;
  pending = [];
  const now = Date.now();
  try {
    db.exec("BEGIN IMMEDIATE");
    for (const p of batch) insert.run(p.id, p.payload, now);
    db.exec("COMMIT");
  } catch {
    db.exec("ROLLBACK");
    for (const p of batch) p.done(false);
    return;
  }
  for (const p of batch) p.done(true);
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const expected = createHmac("sha256", LINE_CHANNEL_SECRET).update(body).digest();
    const presented = Buffer.from(String(req.headers["x-line-signature"] ?? ""), "base64");
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      res.writeHead(401).end();
      return;
    }
    const event = JSON.parse(body.toString("utf8")).events[0];
    pending.push({
      id: event.webhookEventId,
      payload: JSON.stringify(event),
      done: (ok) => res.writeHead(ok ? 200 : 500, { "content-type": "text/plain" }).end(ok ? "OK" : "error"),
    });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
});

server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  if (a && typeof a === "object") process.send?.({ url: `http://127.0.0.1:${a.port}` });
});

process.on("message", (m) => {
  if (m === "cpu") {
    const u = process.cpuUsage();
    process.send?.({ cpuMicros: u.user + u.system });
    return;
  }
  if (m !== "stop") return;
  server.close(() => {
    flush();
    db.close();
    process.exit(0);
  });
  server.closeAllConnections();
});
