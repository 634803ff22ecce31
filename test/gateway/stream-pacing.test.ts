// Streamed answers are shown by editing one message at most once per minEditIntervalMs — as the platform sees
// it. The fake below records when each call reaches it; the final edit (sent by the outbox as soon as the answer
// is committed) must keep the same distance from the last preview as the previews keep from each other.
import assert from "node:assert/strict";
import { it } from "node:test";
import { z } from "zod";
import { channelModules } from "../../src/channels/registry.ts";
import { CHANNEL_API_VERSION, type ChannelAdapter, type OutboundMessage } from "../../src/channels/types.ts";
import { sendJson } from "../../src/http/respond.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startTestGateway, waitFor } from "../helpers/gateway.ts";

const INTERVAL_MS = 400;
const calls: { at: number; kind: "send" | "edit"; text: string }[] = [];

channelModules.slowedit = {
  name: "slowedit",
  apiVersion: CHANNEL_API_VERSION,
  settings: z.looseObject({}),
  multiAccount: false,
  create(_section, ctx) {
    let seq = 0;
    const adapter: ChannelAdapter = {
      channel: "slowedit",
      account: "default",
      capabilities: {
        edit: true,
        livePreview: false,
        answersPresses: false,
        threads: false,
        media: false,
        buttons: false,
        maxTextLength: 4000,
        minEditIntervalMs: INTERVAL_MS,
      },
      routes: () => [
        {
          method: "POST",
          path: "/slowedit/in",
          handler: async (_req, res, { body }) => {
            const { text } = JSON.parse(body.toString("utf8")) as { text: string };
            await ctx.ingest({
              id: `slowedit:default:${++seq}`,
              channel: "slowedit",
              account: "default",
              conversation: { id: "c1", kind: "dm" },
              sender: { id: "u1" },
              text,
              attachments: [],
              addressed: true,
              receivedAt: Date.now(),
            });
            sendJson(res, 200, { ok: true });
          },
        },
      ],
      async send(_to, message: OutboundMessage) {
        calls.push({ at: performance.now(), kind: "send", text: message.text });
        return { messageId: "m1" };
      },
      async edit(_to, _id, message: OutboundMessage) {
        calls.push({ at: performance.now(), kind: "edit", text: message.text });
      },
      isTrusted: () => true,
      health: () => ({ status: "running" }),
    };
    return adapter;
  },
};

it("edits of a streamed reply, the final one included, reach the platform at least minEditIntervalMs apart", async () => {
  const reply = "The lighthouse keeper counted ships until the fog lifted. ".repeat(6).trim();
  const agent = await new FakeAgent({ chunkDelayMs: 25, chunkSize: 6, reply: () => reply }).start();
  const gw = await startTestGateway({ config: { agentUrl: agent.url, channels: { slowedit: {} } } });
  try {
    await fetch(`${gw.url}/slowedit/in`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "tell me a story" }),
    });
    await waitFor(() => calls.find((c) => c.text === reply), 30_000, "the final text");
    assert.ok(calls.length >= 3, `a preview, an edit and the final text (${calls.length} calls)`);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    // The promise is the interval (the gateway adds a margin on top of it); timers never fire early.
    for (const gap of gaps)
      assert.ok(gap >= INTERVAL_MS - 1, `calls ${gaps.map((g) => g.toFixed(0)).join(", ")} ms apart`);
  } finally {
    await gw.stop();
    await agent.stop();
  }
});
