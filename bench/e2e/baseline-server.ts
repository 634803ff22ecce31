// The baseline for bench/e2e: the smallest durable answer loop written by hand in one file. node:http, HMAC
// check in constant time, then SQLite (WAL, synchronous=FULL) with group commits at each durable step:
//   1. inbox insert (ack 200 after commit)
//   2. call the agent (streamed), then one commit: inbox done + reply row + outbox row
//   3. POST the reply to the platform with the reply token, then commit "delivered"
// One conversation's messages are answered in order; conversations run in parallel without a bound (the
// agent is a fast fake). Run as a child of run.ts with env SECRET, AGENT_URL, LINE_API, DB; reports its URL
// over IPC and exits on "stop".
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { DatabaseSync } from "node:sqlite";

const { SECRET = "", AGENT_URL = "", LINE_API = "", DB = "", LINE_TOKEN = "" } = process.env;

const db = new DatabaseSync(DB);
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
db.exec(`
  CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY, lane TEXT, payload TEXT, state TEXT);
  CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY, lane TEXT, role TEXT, content TEXT);
  CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, lane TEXT, payload TEXT, state TEXT);
`);
const sql = {
  insertInbox: db.prepare(
    "INSERT OR IGNORE INTO inbox (id, lane, payload, state) VALUES (?, ?, ?, 'pending')",
  ),
  inboxDone: db.prepare("UPDATE inbox SET state = 'done' WHERE id = ?"),
  history: db.prepare("INSERT INTO history (lane, role, content) VALUES (?, ?, ?)"),
  outbox: db.prepare("INSERT OR IGNORE INTO outbox (key, lane, payload, state) VALUES (?, ?, ?, 'pending')"),
  outboxDone: db.prepare("UPDATE outbox SET state = 'done' WHERE key = ?"),
};

/** Statements queued in one event-loop turn share one transaction; each caller resumes after the commit. */
let batch: { run: () => unknown; done: (ok: boolean) => void }[] = [];
function commit(run: () => unknown): Promise<boolean> {
  return new Promise((done) => {
    if (batch.length === 0) setImmediate(flush);
    batch.push({ run, done });
  });
}
function flush() {
  const items = batch;
  batch = [];
  try {
    db.exec("BEGIN IMMEDIATE");
    for (const i of items) i.run();
    db.exec("COMMIT");
  } catch {
    db.exec("ROLLBACK");
    for (const i of items) i.done(false);
    return;
  }
  for (const i of items) i.done(true);
}

interface LineEvent {
  webhookEventId: string;
  replyToken: string;
  source: { userId: string };
  message: { text: string };
}

/** Per-conversation queues: the lane's next event starts when the previous one is delivered. */
const lanes = new Map<string, LineEvent[]>();
function enqueue(e: LineEvent) {
  const lane = lanes.get(e.source.userId);
  if (lane) return void lane.push(e);
  lanes.set(e.source.userId, [e]);
  void drain(e.source.userId);
}
async function drain(laneId: string) {
  const lane = lanes.get(laneId)!;
  while (lane.length > 0) {
    await answer(lane[0]!).catch((err) => console.error(err));
    lane.shift();
  }
  lanes.delete(laneId);
}

async function answer(e: LineEvent) {
  const lane = e.source.userId;
  const res = await fetch(AGENT_URL, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "bench",
      stream: true,
      messages: [{ role: "user", content: e.message.text }],
    }),
  });
  let text = "";
  let buffered = "";
  for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf("\n");
      if (!line.startsWith("data:") || line === "data: [DONE]") continue;
      text += JSON.parse(line.slice(5)).choices?.[0]?.delta?.content ?? "";
    }
  }
  const key = `reply:${e.webhookEventId}`;
  const payload = JSON.stringify({ replyToken: e.replyToken, messages: [{ type: "text", text }] });
  await commit(() => {
    sql.inboxDone.run(e.webhookEventId);
    sql.history.run(lane, "user", e.message.text);
    sql.history.run(lane, "assistant", text);
    sql.outbox.run(key, lane, payload);
  });
  const sent = await fetch(`${LINE_API}/v2/bot/message/reply`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${LINE_TOKEN}` },
    body: payload,
  });
  await sent.arrayBuffer();
  if (!sent.ok) throw new Error(`LINE answered ${sent.status}`);
  await commit(() => sql.outboxDone.run(key));
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks);
    const expected = createHmac("sha256", SECRET).update(body).digest();
    const presented = Buffer.from(String(req.headers["x-line-signature"] ?? ""), "base64");
    if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) {
      res.writeHead(401).end();
      return;
    }
    const events = JSON.parse(body.toString("utf8")).events as LineEvent[];
    const ok = await commit(() => {
      for (const e of events) sql.insertInbox.run(e.webhookEventId, e.source.userId, JSON.stringify(e));
    });
    res.writeHead(ok ? 200 : 500).end();
    if (ok) for (const e of events) enqueue(e);
  });
});

server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  if (a && typeof a === "object") process.send?.({ url: `http://127.0.0.1:${a.port}/line/webhook` });
});

process.on("message", (m) => {
  if (m !== "stop") return;
  server.close(() => {
    db.close();
    process.exit(0);
  });
  server.closeAllConnections();
});
