// Three replicas (real `clawgate start` processes) share one PostgreSQL database. Web chat messages are posted
// to all of them, one replica is killed with SIGKILL mid-stream, and every acknowledged message is answered
// exactly once: by the replica that took it, or — after its lease expired — by a survivor.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import pg from "pg";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { type ChildGateway, startChildGateway, waitFor } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { WebchatClient } from "../helpers/webchat.ts";

let db: TestDatabase;
let agent: FakeAgent;
const replicas: ChildGateway[] = [];

before(async () => {
  db = await createTestDatabase();
  agent = await new FakeAgent({ chunkSize: 6, chunkDelayMs: 2 }).start();
});
after(async () => {
  await Promise.allSettled(replicas.map((r) => r.kill("SIGTERM")));
  await agent?.stop();
  await db?.drop();
});

async function query<T extends pg.QueryResultRow>(sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

it("three replicas on one PostgreSQL: SIGKILL one mid-stream, every message answered exactly once", {
  timeout: 90_000,
}, async () => {
  const INBOX_CONCURRENCY = 4;
  const env = { CLAWGATE_DATABASE_URL: `${db.url}?pool_max=4` };
  const config = {
    agentUrl: agent.url,
    agent: { retries: 0 },
    inbox: { leaseMs: 1500, concurrency: INBOX_CONCURRENCY },
  };
  replicas.push(...(await Promise.all([0, 1, 2].map(() => startChildGateway({ config, env })))));
  const alive = new Set([0, 1, 2]);
  const clients = replicas.map((r) => new WebchatClient(r.url));
  const threads = await Promise.all(
    Array.from({ length: 9 }, (_, i) => clients[i % 3]!.createThread(`t${i}`)),
  );

  // Each thread's sender spreads its messages over the replicas like a round-robin load balancer; when a
  // replica is gone the same request (same clientMessageId) is retried on the next one, as a balancer would.
  const accepted = new Map<string, string>(); // eventId → text
  let stop = false;
  let sent = 0;
  const senders = threads.map(async (thread, t) => {
    for (let k = 0; !stop; k++) {
      const text = `msg ${t}-${k}`;
      const clientMessageId = `m${t}x${k}xxxxxxxx`;
      for (let attempt = 0; ; attempt++) {
        const ids = [...alive];
        const r = ids[(t + k + attempt) % ids.length]!;
        try {
          const res = await clients[r]!.send(thread, text, clientMessageId);
          assert.equal(res.status, 202, `replica ${r} answered ${res.status}: ${res.error}`);
          // A duplicate here means the killed replica committed it before dying: it must be answered too.
          accepted.set(res.eventId, text);
          sent++;
          break;
        } catch (err) {
          if (alive.has(r) && replicas[r]!.proc.exitCode === null && replicas[r]!.proc.signalCode === null)
            throw err;
          if (attempt > 5) throw err;
        }
      }
    }
  });

  await waitFor(() => sent >= 90, 30_000, "90 accepted messages");
  // Kill replica 1 while it holds inbox leases, so its in-flight work must be taken over by the others.
  const victim = `${replicas[1]!.proc.pid}-%`;
  const inFlight = await waitFor(
    async () => {
      const rows = await query<{ id: string }>(
        `SELECT id FROM inbox WHERE state = 'leased' AND lease_owner LIKE '${victim}'`,
      );
      return rows.length > 0 ? rows.map((r) => r.id) : undefined;
    },
    20_000,
    "replica 1 to be processing something",
  );
  alive.delete(1);
  await replicas[1]!.kill("SIGKILL");
  const killedAt = sent;
  await waitFor(() => sent >= killedAt + 90, 30_000, "90 more accepted messages after the kill");
  stop = true;
  await Promise.all(senders);

  await waitFor(
    async () => {
      const [row] = await query<{ n: number }>(
        `SELECT COUNT(DISTINCT event_id)::int AS n FROM messages WHERE role = 'assistant'`,
      );
      return row!.n >= accepted.size;
    },
    45_000,
    `all ${accepted.size} accepted messages to be answered`,
  );

  const answers = await query<{ event_id: string; n: number }>(
    `SELECT event_id, COUNT(*)::int AS n FROM messages WHERE role = 'assistant' GROUP BY event_id`,
  );
  const perEvent = new Map(answers.map((r) => [r.event_id, r.n]));
  for (const id of accepted.keys()) assert.equal(perEvent.get(id), 1, `${id} answered exactly once`);
  assert.equal(answers.length, accepted.size, "no answers to messages nobody sent");
  const errors = await query(`SELECT content FROM messages WHERE role = 'error'`);
  assert.deepEqual(errors, []);
  const open = await query<{ state: string; n: number }>(
    `SELECT state, COUNT(*)::int AS n FROM inbox WHERE state <> 'done' GROUP BY state`,
  );
  assert.deepEqual(open, [], "inbox drained: nothing pending, leased or dead");
  const deadOut = await query(`SELECT id FROM outbox WHERE state = 'dead'`);
  assert.deepEqual(deadOut, []);

  // The agent saw every message; only requests in flight on the killed replica may have been asked twice.
  const asked = new Map<string, number>();
  for (const r of agent.requests) {
    const text = r.body.messages.at(-1)?.content ?? "";
    asked.set(text, (asked.get(text) ?? 0) + 1);
  }
  for (const text of accepted.values())
    assert.ok((asked.get(text) ?? 0) >= 1, `the agent was asked "${text}"`);
  const repeated = [...asked.values()].filter((n) => n > 1).length;
  assert.ok(
    repeated <= INBOX_CONCURRENCY,
    `at most the killed replica's in-flight items were re-asked (${repeated} > ${INBOX_CONCURRENCY})`,
  );
  // What the killed replica held was re-leased by a survivor once its lease expired, and answered once.
  const retaken = await query<{ id: string; attempts: number }>(
    `SELECT id, attempts FROM inbox WHERE id IN (${inFlight.map((id) => `'${id}'`).join(",")})`,
  );
  assert.ok(
    retaken.some((r) => r.attempts >= 2),
    `a survivor took over the killed replica's leases: ${JSON.stringify(retaken)}`,
  );
  for (const r of retaken) assert.equal(perEvent.get(r.id), 1);
});
