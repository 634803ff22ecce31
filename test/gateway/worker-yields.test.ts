// One webhook can carry thousands of events. While the inbox drains them, the process must keep answering
// HTTP: the worker yields to the event loop between batches instead of chaining every claim in microtasks.
import assert from "node:assert/strict";
import { it } from "node:test";
import { channelModules } from "../../src/channels/registry.ts";
import type { InboundEvent } from "../../src/core/event.ts";
import { dmChannelModule, type SentRecord } from "../fakes/dm-channel.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";

const sent: SentRecord[] = [];
channelModules.drain = dmChannelModule("drain", sent);

it("/healthz answers while 5,000 events drain, not after", async () => {
  const gw = await startTestGateway({ config: { channels: { drain: { allowFrom: ["u"] } } } });
  try {
    const now = Date.now();
    const events: InboundEvent[] = Array.from({ length: 5000 }, (_, i) => ({
      id: `drain:default:${i}`,
      channel: "drain",
      account: "default",
      // Group chatter not addressed to the bot: the cheapest work there is, all of it in the store.
      conversation: { id: `g${i % 50}`, kind: "group" },
      sender: { id: "u" },
      text: `message ${i}`,
      attachments: [],
      addressed: false,
      receivedAt: now,
    }));
    // As one webhook does: every event committed in the same turn, then the worker starts on them.
    const results = await Promise.all(events.map((e) => gw.gateway.ingest(e)));
    assert.ok(results.every((r) => r === "accepted"));
    const res = await fetch(`${gw.url}/healthz`);
    assert.equal(res.status, 200);
    const left = await gw.gateway.store.inboxStats();
    assert.ok(left.pending + left.leased > 0, "the drain had not finished when /healthz answered");
    await waitFor(
      async () => {
        const s = await gw.gateway.store.inboxStats();
        return s.pending + s.leased === 0;
      },
      120_000,
      "the inbox drained",
    );
  } finally {
    await gw.stop();
  }
});
