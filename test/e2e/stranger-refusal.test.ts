// A stranger who keeps writing is told once why they get no answer, not once per message.
import assert from "node:assert/strict";
import { it } from "node:test";
import type { InboundEvent } from "../../src/core/event.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";
import { WebchatClient } from "../helpers/webchat.ts";

it("an untrusted sender in a DM gets one refusal per hour; the rest are refused quietly", async () => {
  const gw = await startTestGateway();
  try {
    // The web chat trusts everyone who can reach it; here, the sender "stranger" is not on the allowlist.
    const adapter = gw.gateway.adapter("webchat", "default")!;
    (adapter as { isTrusted(e: InboundEvent): boolean }).isTrusted = (e) => e.sender.id !== "stranger";
    const chat = new WebchatClient(gw.url);
    const thread = await chat.createThread();
    const send = async (text: string) => {
      const res = await fetch(`${gw.url}/api/threads/${thread}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text, userId: "stranger" }),
      });
      return ((await res.json()) as { eventId: string }).eventId;
    };
    const ids = [await send("hello?"), await send("anyone?"), await send("hello??")];
    await waitFor(
      async () => (await gw.gateway.store.getInbound(ids[2]!))?.state === "done",
      10_000,
      "all three processed",
    );
    await waitFor(
      async () => (await gw.gateway.store.outboxStats()).pending === 0,
      10_000,
      "deliveries done",
    );
    const outbox = await gw.gateway.store.listOutbound({ limit: 10 });
    assert.equal(outbox.length, 1, "one refusal was sent");
    assert.match(
      JSON.parse(outbox[0]!.payload).message.text,
      /only answers people on its allowlist.*stranger/,
    );
  } finally {
    await gw.stop();
  }
});
