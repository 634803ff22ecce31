// An event that keeps failing is dead-lettered; the operator sees why with `clawgate inbox list` and puts it
// back with `clawgate inbox retry` once the cause is fixed.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
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
