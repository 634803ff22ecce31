// Two gateways on one PostgreSQL database: a workspace, a file and a memory made through one replica are seen,
// served and used by the other (a thread answered there gets the workspace's context).
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { workspacesExtension } from "../../src/workspaces/extension.ts";
import { FakeAgent, textOf } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/postgres.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { call, upload } from "./helpers.ts";

let db: TestDatabase;
let agent: FakeAgent;
const gateways: TestGateway[] = [];

before(async () => {
  db = await createTestDatabase();
  agent = await new FakeAgent().start();
});
after(async () => {
  await Promise.allSettled(gateways.map((g) => g.stop()));
  await agent?.stop();
  await db?.drop();
});

it("what one replica stores, the other serves and sends to the agent", async () => {
  const env = { CLAWGATE_DATABASE_URL: `${db.url}?pool_max=3` };
  const config = { agentUrl: agent.url };
  const start = () => startTestGateway({ config, env, extensions: [workspacesExtension()] });
  const [a, b] = await Promise.all([start(), start()]);
  gateways.push(a, b);
  assert.equal(b.gateway.store.kind, "postgres");

  const ws = (
    await call(a.url, "POST", "/api/workspaces", { name: "Shared", systemPrompt: "Shared prompt." })
  ).json;
  const file = (await upload(a.url, ws.id, "facts.txt", "The office is on floor 7.")).json;
  await call(a.url, "PATCH", `/api/workspaces/${ws.id}/files/${file.id}`, { pinned: true });
  await call(a.url, "POST", `/api/workspaces/${ws.id}/memories`, { text: "The user is called Ana" });
  const thread = (await call(a.url, "POST", `/api/workspaces/${ws.id}/threads`, {})).json.id;

  const bytes = await fetch(`${b.url}/api/workspaces/${ws.id}/files/${file.id}/content`);
  assert.equal(await bytes.text(), "The office is on floor 7.");
  const chat = new WebchatClient(b.url);
  const sent = await chat.send(thread, "which floor?");
  await chat.reply(thread, sent.eventId);
  const system = textOf(agent.requests.at(-1)!.body.messages[0]!.content);
  assert.equal(
    system,
    'Shared prompt.\n\nThings the user asked you to remember:\n- The user is called Ana\n\nFile "facts.txt" (pinned by the user as standing context):\nThe office is on floor 7.',
  );
  assert.equal((await call(b.url, "DELETE", `/api/workspaces/${ws.id}`)).status, 200);
  assert.equal((await call(a.url, "GET", `/api/workspaces/${ws.id}`)).status, 404);
});
