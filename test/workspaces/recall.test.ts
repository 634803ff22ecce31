// Semantic recall with an OpenAI-compatible embeddings endpoint (the fake hashes words into vectors): vectors are
// kept with each memory, recall returns the nearest, and an old fact similar to the message reaches the agent
// even when it is not among the newest.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cosine, nearest } from "../../src/memory/recall.ts";
import { workspacesExtension } from "../../src/workspaces/extension.ts";
import { FakeEmbeddings, fakeVector } from "../fakes/embeddings.ts";
import { FakeAgent, textOf } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";
import { call } from "./helpers.ts";

describe("memory recall", () => {
  let agent: FakeAgent;
  let embeddings: FakeEmbeddings;
  let gw: TestGateway;

  before(async () => {
    agent = await new FakeAgent().start();
    embeddings = await new FakeEmbeddings({ apiKey: "emb-key" }).start();
    gw = await startTestGateway({
      config: {
        agentUrl: agent.url,
        memory: { embeddings: { url: embeddings.url, apiKey: "emb-key", model: "fake-embed", topK: 1 } },
      },
      extensions: [workspacesExtension()],
    });
  });
  after(async () => {
    await gw?.stop();
    await agent?.stop();
    await embeddings?.stop();
  });

  it("cosine and nearest rank by direction", () => {
    assert.equal(cosine([1, 0], [2, 0]), 1);
    assert.equal(cosine([1, 0], [0, 3]), 0);
    assert.equal(cosine([], []), 0);
    const items = [
      { id: "a", vector: [0, 1] },
      { id: "b", vector: [1, 0.1] },
      { id: "c", vector: null },
    ];
    assert.deepEqual(
      nearest([1, 0], items, 5).map((i) => i.id),
      ["b", "a"],
    );
  });

  it("stores a vector with each memory and recalls the nearest first", async () => {
    const ws = (await call(gw.url, "POST", "/api/workspaces", { name: "Recall" })).json.id;
    for (const text of [
      "My cat is named Tom",
      "The project deadline is Friday",
      "I drink coffee without sugar",
    ]) {
      const m = await call(gw.url, "POST", `/api/workspaces/${ws}/memories`, { text });
      assert.equal(m.json.hasVector, true);
    }
    const stored = await gw.gateway.store.workspaces.memories(ws);
    assert.deepEqual(stored[0]!.vector, fakeVector("My cat is named Tom"));
    const found = await call(
      gw.url,
      "GET",
      `/api/workspaces/${ws}/memories/recall?q=${encodeURIComponent("what is my cat named?")}&k=1`,
    );
    assert.deepEqual(
      found.json.memories.map((m: { text: string }) => m.text),
      ["My cat is named Tom"],
    );
    assert.deepEqual(embeddings.inputs.at(-1), ["what is my cat named?"]);
  });

  it("an old fact similar to the message reaches the agent beside the newest ones", async () => {
    const ws = (await call(gw.url, "POST", "/api/workspaces", { name: "Many" })).json.id;
    await call(gw.url, "POST", `/api/workspaces/${ws}/memories`, { text: "The wifi password is hunter2" });
    for (let i = 0; i < 24; i++)
      await call(gw.url, "POST", `/api/workspaces/${ws}/memories`, {
        text: `Gardening note ${i}: tomatoes like sun`,
      });
    const t = (await call(gw.url, "POST", `/api/workspaces/${ws}/threads`, {})).json.id;
    const chat = new WebchatClient(gw.url);
    const sent = await chat.send(t, "what is the wifi password?");
    await chat.reply(t, sent.eventId);
    const system = textOf(agent.requests.at(-1)!.body.messages[0]!.content);
    assert.match(system, /- The wifi password is hunter2/);
    assert.match(system, /- Gardening note 23: tomatoes like sun/);
    for (const old of [0, 1, 2, 3])
      assert.doesNotMatch(
        system,
        new RegExp(`- Gardening note ${old}:`),
        "neither newest nor nearest: left out",
      );
  });
});
