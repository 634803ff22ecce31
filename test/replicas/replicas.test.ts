// Three replicas (real `clawgate start` processes) share one PostgreSQL database. Web chat messages are posted
// to all of them and Telegram updates arrive through the one replica polling the bot (a fake Bot API). The
// replica holding the Telegram poller lease is killed with SIGKILL while it is processing; every acknowledged
// message is answered exactly once, another replica takes the poller over, and updates keep flowing.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import pg from "pg";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { type FakeBot, FakeTelegram } from "../fakes/telegram.ts";
import { type ChildGateway, startChildGateway, waitFor } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { WebchatClient } from "../helpers/webchat.ts";

const BOT: FakeBot = { token: "777777:ReplicaTestBotToken", id: 777777, username: "replica_test_bot" };
const TG_USERS = [42, 43, 44, 45, 46, 47];
const POLLER_LEASE = `telegram:poller:${BOT.id}`;
const INBOX_CONCURRENCY = 4;

let db: TestDatabase;
let agent: FakeAgent;
let telegram: FakeTelegram;
const replicas: ChildGateway[] = [];

before(async () => {
  db = await createTestDatabase();
  // Every tenth message of thread 0 takes 400 ms to answer: the replica killed below is caught holding one.
  agent = await new FakeAgent({
    chunkSize: 6,
    chunkDelayMs: 60,
    delayFor: (text) => (/^msg 0-\d*0$/.test(text) ? 400 : 0),
  }).start();
  telegram = await new FakeTelegram([BOT]).start();
});
after(async () => {
  await Promise.allSettled(replicas.map((r) => r.kill("SIGTERM")));
  await agent?.stop();
  await telegram?.stop();
  await db?.drop();
});

async function query<T extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query<T>(sql, args)).rows;
  } finally {
    await c.end();
  }
}

const pollerOwner = async () =>
  (await query<{ owner: string }>(`SELECT owner FROM leases WHERE name = $1`, [POLLER_LEASE]))[0]?.owner;

const replicaOf = (owner: string) => replicas.findIndex((r) => owner.startsWith(`${r.proc.pid}-`));

it("three replicas on one PostgreSQL: SIGKILL the poller's replica mid-stream, every message answered exactly once", {
  timeout: 120_000,
}, async () => {
  const env = {
    CLAWGATE_DATABASE_URL: `${db.url}?pool_max=4`,
    OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: BOT.token,
    OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_USERS: TG_USERS.join(","),
    OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: telegram.url,
  };
  const config = {
    agentUrl: agent.url,
    agent: { retries: 0, stream: false },
    inbox: { leaseMs: 1500, concurrency: INBOX_CONCURRENCY },
    channels: { telegram: { leaseTtlMs: 1000, pollTimeoutSec: 1, setCommands: false } },
  };
  replicas.push(...(await Promise.all([0, 1, 2].map(() => startChildGateway({ config, env })))));
  const alive = new Set([0, 1, 2]);
  const clients = replicas.map((r) => new WebchatClient(r.url));
  const threads = await Promise.all(
    Array.from({ length: 9 }, (_, i) => clients[i % 3]!.createThread(`t${i}`)),
  );
  const firstPoller = await waitFor(pollerOwner, 10_000, "a replica to take the Telegram poller lease");
  const victim = replicaOf(firstPoller);
  assert.ok(victim >= 0, `the poller lease is held by one of the replicas (${firstPoller})`);

  // Web chat: each thread's sender spreads its messages over the replicas like a round-robin load balancer;
  // when a replica is gone the same request (same clientMessageId) is retried on the next one.
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
  // Telegram: six users write to the bot, each about once a second (Telegram paces replies per chat).
  const tgTexts: string[] = [];
  const tgPusher = (async () => {
    for (let k = 0; !stop; k++) {
      for (const user of TG_USERS) {
        const text = `tg ${user}-${k}`;
        telegram.userMessage(BOT.token, { text, userId: user });
        tgTexts.push(text);
      }
      await new Promise((r) => setTimeout(r, 1200));
    }
  })();

  await waitFor(
    () => sent >= 90 && tgTexts.length >= 12,
    30_000,
    "90 web chat messages and 2 Telegram rounds",
  );
  // Kill the poller's replica while it holds inbox leases, so both its singleton and its in-flight work must
  // be taken over by the others.
  const victimOwner = `${replicas[victim]!.proc.pid}-%`;
  await waitFor(
    async () => {
      // Pick a moment when it has no Telegram send in flight, so the chat-level check below stays exact (a send
      // in flight at the kill is retried after its outbox lease and may show twice; that case is allowed below),
      // and has taken one of the slow messages in the last 100 ms, so it is still at work on it when killed.
      const rows = await query<{ id: string; busy: boolean }>(
        `SELECT id, EXISTS (SELECT 1 FROM outbox WHERE state = 'leased' AND lease_owner LIKE $1) AS busy
         FROM inbox WHERE state = 'leased' AND lease_owner LIKE $1 AND updated_at > $2
           AND payload::jsonb ->> 'text' ~ '^msg 0-[0-9]*0$'`,
        [victimOwner, Date.now() - 100],
      );
      return rows.length > 0 && !rows[0]!.busy ? rows.map((r) => r.id) : undefined;
    },
    20_000,
    "the victim to be processing something",
  );
  alive.delete(victim);
  await replicas[victim]!.kill("SIGKILL");
  const killedAt = Date.now();
  // What the victim still held when it died (it may have finished some of `inFlight` just before the kill).
  const heldAtKill = (
    await query<{ id: string }>(`SELECT id FROM inbox WHERE state = 'leased' AND lease_owner LIKE $1`, [
      victimOwner,
    ])
  ).map((r) => r.id);
  const outboxInFlight = await query<{ event_id: string }>(
    `SELECT event_id FROM outbox WHERE state = 'leased' AND lease_owner LIKE $1`,
    [victimOwner],
  );
  const tgAtKill = tgTexts.length;
  const newPoller = await waitFor(
    async () => {
      const owner = await pollerOwner();
      return owner && owner !== firstPoller ? owner : undefined;
    },
    10_000,
    "a survivor to take the Telegram poller over",
  );
  const takeoverMs = Date.now() - killedAt;
  assert.ok(alive.has(replicaOf(newPoller)), "the new poller is a live replica");
  const webAtKill = sent;
  await waitFor(
    () => sent >= webAtKill + 90 && tgTexts.length >= tgAtKill + 18,
    30_000,
    "more messages after the kill",
  );
  stop = true;
  await Promise.all([...senders, tgPusher]);

  // Every acknowledged web chat message and every Telegram update has its answer in the store…
  const tgEvents = () =>
    query<{ text: string; id: string }>(
      `SELECT payload::json->>'text' AS text, id FROM inbox WHERE id LIKE 'telegram:%'`,
    );
  await waitFor(
    async () => {
      const [row] = await query<{ n: number }>(
        `SELECT COUNT(DISTINCT event_id)::int AS n FROM messages WHERE role = 'assistant'`,
      );
      return row!.n >= accepted.size + tgTexts.length;
    },
    45_000,
    `all ${accepted.size} web chat and ${tgTexts.length} Telegram messages to be answered`,
  );
  const answers = await query<{ event_id: string; n: number }>(
    `SELECT event_id, COUNT(*)::int AS n FROM messages WHERE role = 'assistant' GROUP BY event_id`,
  );
  const perEvent = new Map(answers.map((r) => [r.event_id, r.n]));
  for (const id of accepted.keys()) assert.equal(perEvent.get(id), 1, `${id} answered exactly once`);
  const tgRows = await tgEvents();
  assert.deepEqual(
    tgRows.map((r) => r.text).sort(),
    [...tgTexts].sort(),
    "every Telegram update entered the inbox once",
  );
  for (const r of tgRows) assert.equal(perEvent.get(r.id), 1, `${r.id} answered exactly once`);
  assert.equal(answers.length, accepted.size + tgTexts.length, "no answers to messages nobody sent");
  assert.deepEqual(await query(`SELECT content FROM messages WHERE role = 'error'`), []);
  assert.deepEqual(
    await query(`SELECT state, COUNT(*)::int AS n FROM inbox WHERE state <> 'done' GROUP BY state`),
    [],
    "inbox drained: nothing pending, leased or dead",
  );

  // …and every Telegram user got each answer in the chat once. A send the victim had in flight when it died
  // is retried after its outbox lease expires and may show twice (at-least-once at the platform boundary).
  const mayRepeat = new Set(outboxInFlight.map((r) => r.event_id));
  const eventOf = new Map(tgRows.map((r) => [r.text, r.id]));
  await waitFor(
    () => tgTexts.every((t) => telegram.messages(BOT.token).some((m) => m.text === `echo: ${t}`)),
    mayRepeat.size ? 90_000 : 30_000,
    "every Telegram answer delivered",
  );
  for (const text of tgTexts) {
    const copies = telegram.messages(BOT.token).filter((m) => m.text === `echo: ${text}`).length;
    if (mayRepeat.has(eventOf.get(text)!)) assert.ok(copies >= 1 && copies <= 2);
    else assert.equal(copies, 1, `"${text}" answered once in the chat`);
  }
  assert.equal(
    telegram.callsTo("getUpdates").filter((c) => c.status === 409).length,
    0,
    "never two pollers at once",
  );

  // The agent saw every message; only requests in flight on the killed replica may have been asked twice.
  const asked = new Map<string, number>();
  for (const r of agent.requests) {
    const text = r.body.messages.at(-1)?.content ?? "";
    asked.set(text, (asked.get(text) ?? 0) + 1);
  }
  for (const text of [...accepted.values(), ...tgTexts])
    assert.ok((asked.get(text) ?? 0) >= 1, `asked "${text}"`);
  const repeated = [...asked.values()].filter((n) => n > 1).length;
  assert.ok(
    repeated <= INBOX_CONCURRENCY,
    `only the killed replica's in-flight items were re-asked (${repeated})`,
  );
  // What the killed replica held was re-leased by a survivor once its lease expired, and answered once.
  const retaken = await query<{ id: string; attempts: number; state: string }>(
    `SELECT id, attempts, state FROM inbox WHERE id = ANY($1)`,
    [heldAtKill],
  );
  assert.ok(heldAtKill.length > 0, "the victim died holding inbox leases");
  for (const r of retaken) {
    assert.ok(
      r.attempts >= 2 && r.state === "done",
      `a survivor took over the victim's lease: ${JSON.stringify(r)}`,
    );
  }
  assert.ok(takeoverMs < 5000, `poller taken over in ${takeoverMs} ms (lease TTL 1000 ms)`);
});
