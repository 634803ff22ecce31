// An event or delivery that keeps failing is dead-lettered; the operator sees why with `clawgate inbox|outbox list`
// and puts it back with `clawgate inbox|outbox retry` once the cause is fixed.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { BOT, setupTelegram } from "../channels/telegram-helpers.ts";
import { clawgate } from "../helpers/cli.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

let broken = true;
const flaky: GatewayExtension = {
  name: "flaky-command",
  setup(gw) {
    gw.commands.register({
      name: "/flaky",
      description: "fails until fixed",
      handler: () => {
        if (broken) throw new Error("the backend is down");
        return { text: "worked this time" };
      },
    });
  },
};

it("clawgate inbox list shows dead-lettered events with their error; retry processes them again", async () => {
  const gw = await startTestGateway({
    config: { inbox: { maxAttempts: 1 }, policy: { overrides: { "/flaky": "public" } } },
    extensions: [flaky],
  });
  try {
    const port = new URL(gw.url).port;
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const sent = await chat.send(thread, "/flaky");
    await waitFor(
      async () => (await gw.gateway.store.getInbound(sent.eventId))?.state === "dead",
      10_000,
      "dead letter",
    );

    const list = await clawgate(gw.dir, "--port", port, "inbox", "list");
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.includes(sent.eventId));
    assert.match(list.stdout, /last error: the backend is down/);

    broken = false;
    const retry = await clawgate(gw.dir, "--port", port, "inbox", "retry", sent.eventId);
    assert.equal(retry.code, 0, retry.stderr);
    assert.match((await chat.reply(thread, sent.eventId)).content, /worked this time/);
    assert.match((await clawgate(gw.dir, "--port", port, "inbox", "list")).stdout, /no dead items/);

    const again = await clawgate(gw.dir, "--port", port, "inbox", "retry", sent.eventId);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /404 no dead-lettered inbox item/);
    const bad = await clawgate(gw.dir, "--port", port, "inbox", "list", "--state", "lost");
    assert.match(bad.stderr, /--state must be one of/);
  } finally {
    await gw.stop();
  }
});

it("clawgate outbox list shows a dead delivery and why; retry sends it once, with the same key", async () => {
  const t = await setupTelegram();
  try {
    const port = new URL(t.gw.url).port;
    t.fake.blocked.add("42");
    t.fake.userMessage(BOT.token, { text: "are you there?", userId: 42 });
    const dead = await waitFor(
      async () => (await t.gw.gateway.store.listOutbound({ state: "dead" }))[0],
      20_000,
      "dead delivery",
    );

    const list = await clawgate(t.gw.dir, "--port", port, "outbox", "list");
    assert.equal(list.code, 0, list.stderr);
    assert.ok(list.stdout.includes(`key=${dead.idempotencyKey}`), list.stdout);
    assert.match(list.stdout, /last error: .*bot was blocked by the user/);

    t.fake.blocked.delete("42");
    const retry = await clawgate(t.gw.dir, "--port", port, "outbox", "retry", String(dead.id));
    assert.equal(retry.code, 0, retry.stderr);
    await waitFor(() => t.fake.messages(BOT.token, 42).length === 1, 20_000, "delivered after retry");
    assert.match(t.fake.messages(BOT.token, 42)[0]!.text, /are you there\?/);
    assert.equal((await t.gw.gateway.store.getOutbound(dead.id))?.state, "done");

    const again = await clawgate(t.gw.dir, "--port", port, "outbox", "retry", String(dead.id));
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /404 no dead-lettered delivery/);
    const nonsense = await clawgate(t.gw.dir, "--port", port, "outbox", "retry", "../../x");
    assert.match(nonsense.stderr, /404/);
    assert.equal(t.fake.messages(BOT.token, 42).length, 1, "sent exactly once");
  } finally {
    await t.close();
  }
});
