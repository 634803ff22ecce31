// The signed-webhook plugin, loaded by a real `clawgate start` from the config's "plugins" list, against a fake
// of its platform and a fake agent: what a user of the plugin sees end to end.
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { FakeAgent } from "../../../../test/fakes/openai-agent.ts";
import { type ChildGateway, startChildGateway, waitFor } from "../../../../test/helpers/gateway.ts";
import { FakeSignedPlatform } from "./fake-platform.ts";

const INBOUND_SECRET = "inbound-secret-0123456789";
const OUTBOUND_SECRET = "outbound-secret-0123456789";
const PLUGIN = resolve(import.meta.dirname, "../src/index.ts");

describe("signed-webhook plugin", () => {
  let agent: FakeAgent;
  let platform: FakeSignedPlatform;
  let gw: ChildGateway;
  let hook: string;

  before(async () => {
    agent = await new FakeAgent().start();
    platform = await new FakeSignedPlatform(INBOUND_SECRET, OUTBOUND_SECRET).start();
    gw = await startChildGateway({
      config: {
        agentUrl: agent.url,
        plugins: [PLUGIN],
        channels: {
          "signed-webhook": {
            secret: INBOUND_SECRET,
            outboundUrl: platform.url,
            outboundSecret: OUTBOUND_SECRET,
            allowFrom: ["alice"],
          },
        },
      },
    });
    hook = `${gw.url}/hooks/signed-webhook`;
  });

  after(async () => {
    await gw?.kill();
    await platform?.stop();
    await agent?.stop();
  });

  test("startup names the loaded plugin", () => {
    assert.match(gw.output(), /"plugin":"signed-webhook".*"plugin loaded"/);
  });

  test("a signed message reaches the agent and the reply is POSTed, signed, to the outbound URL", async () => {
    const res = await platform.deliver(hook, {
      id: "m1",
      from: "alice",
      conversation: "alice",
      text: "hello",
    });
    assert.equal(res.status, 200);
    assert.equal(res.json.result, "accepted");
    const reply = await waitFor(
      () => platform.replies.find((r) => r.inReplyTo === "m1"),
      60_000,
      "the reply",
    );
    assert.equal(reply.conversation, "alice");
    assert.match(reply.text, /echo: hello/);
    assert.ok(reply.idempotencyKey, "the reply carries the outbox's idempotency key");
    assert.deepEqual(platform.refused, [], "the platform accepted the reply's signature");
  });

  test("a bad signature is 401 and never reaches the agent", async () => {
    const before = agent.requests.length;
    const res = await platform.deliver(
      hook,
      { id: "forged", from: "alice", conversation: "alice", text: "forged" },
      { secret: "not-the-secret-0123456789" },
    );
    assert.equal(res.status, 401);
    assert.match(String(res.json.error), /signature/);
    const unsigned = await fetch(hook, { method: "POST", body: JSON.stringify({ id: "x" }) });
    assert.equal(unsigned.status, 401);
    assert.equal(agent.requests.length, before);
    assert.equal(
      agent.requests.some((r) => r.body.messages.some((m) => m.content.includes("forged"))),
      false,
    );
  });

  test("a correctly signed request replayed after the window is refused", async () => {
    const tenMinutesAgo = Date.now() - 10 * 60_000;
    const res = await platform.deliver(
      hook,
      { id: "old", from: "alice", conversation: "alice", text: "replayed" },
      { atMs: tenMinutesAgo },
    );
    assert.equal(res.status, 401);
    assert.match(String(res.json.error), /replay window/);
    assert.equal(
      agent.requests.some((r) => r.body.messages.some((m) => m.content.includes("replayed"))),
      false,
    );
  });

  test("a redelivered message is a duplicate: acknowledged, answered once", async () => {
    const message = { id: "m2", from: "alice", conversation: "alice", text: "only once" };
    const first = await platform.deliver(hook, message);
    const second = await platform.deliver(hook, message);
    assert.equal(first.json.result, "accepted");
    assert.equal(second.status, 200, "acknowledged so the platform stops retrying");
    assert.equal(second.json.result, "duplicate");
    await waitFor(() => platform.replies.find((r) => r.inReplyTo === "m2"), 60_000, "the reply");
    const asked = agent.requests.filter((r) => r.body.messages.at(-1)?.content.includes("only once"));
    assert.equal(asked.length, 1);
    assert.equal(platform.replies.filter((r) => r.inReplyTo === "m2").length, 1);
  });

  test("a body that is not the expected JSON is 400 even when signed", async () => {
    const res = await platform.deliver(
      hook,
      { id: "", from: "", conversation: "", text: "" },
      { body: "[1]" },
    );
    assert.equal(res.status, 400);
  });
});
