// Webhooks can land on any replica: two gateways on one PostgreSQL database receive the same event id at the
// same moment; one accepts it, the other reports a duplicate, and the message is answered exactly once.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import pg from "pg";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { WebchatClient } from "../helpers/webchat.ts";

let db: TestDatabase;
let agent: FakeAgent;
const gateways: TestGateway[] = [];

before(async () => {
  db = await createTestDatabase();
  agent = await new FakeAgent({ chunkDelayMs: 1 }).start();
});
after(async () => {
  await Promise.allSettled(gateways.map((g) => g.stop()));
  await agent?.stop();
  await db?.drop();
});

it("the same event id posted to two replicas at once is accepted once and answered once", async () => {
  const env = { CLAWGATE_DATABASE_URL: `${db.url}?pool_max=3` };
  const config = { agentUrl: agent.url, agent: { retries: 0 } };
  const [a, b] = await Promise.all([startTestGateway({ config, env }), startTestGateway({ config, env })]);
  gateways.push(a, b);
  assert.equal(a.gateway.store.kind, "postgres");
  const [chatA, chatB] = [new WebchatClient(a.url), new WebchatClient(b.url)];
  const thread = await chatA.createThread("shared");

  const results = [];
  for (let i = 0; i < 10; i++) {
    const clientMessageId = `redelivered-${i}-abcdef`;
    const [ra, rb] = await Promise.all([
      chatA.send(thread, `hello ${i}`, clientMessageId),
      chatB.send(thread, `hello ${i}`, clientMessageId),
    ]);
    assert.equal(ra.status, 202);
    assert.equal(rb.status, 202);
    assert.equal(ra.eventId, rb.eventId);
    results.push([ra.duplicate, rb.duplicate].sort());
    await chatB.reply(thread, ra.eventId, 10_000);
  }
  assert.ok(
    results.every(([x, y]) => x === false && y === true),
    "exactly one of each pair was accepted",
  );

  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    const { rows } = await c.query(
      `SELECT event_id, COUNT(*)::int AS n FROM messages WHERE role = 'assistant' GROUP BY event_id`,
    );
    assert.equal(rows.length, 10);
    assert.ok(
      rows.every((r) => r.n === 1),
      "one answer per event",
    );
  } finally {
    await c.end();
  }
  const asked = agent.requests.map((r) => r.body.messages.at(-1)?.content);
  for (let i = 0; i < 10; i++) {
    assert.equal(
      asked.filter((t) => t === `hello ${i}`).length,
      1,
      `the agent was asked about "hello ${i}" once`,
    );
  }
});
