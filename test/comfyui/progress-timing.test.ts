import assert from "node:assert/strict";
import { it } from "node:test";
import type { ChannelAdapter, OutboundMessage } from "../../src/channels/types.ts";
import { createLogger } from "../../src/log.ts";
import { nextTickAfter, parseInterval, validateCron } from "../../src/schedules/timing.ts";
import { ProgressMessage, progressLine } from "../../src/targets/comfyui/progress.ts";
import { waitFor } from "../helpers/gateway.ts";

it("a progress message is sent once, then edited no faster than the interval, ending on the final line", async () => {
  const calls: { op: string; text: string; at: number }[] = [];
  const adapter = {
    channel: "x",
    account: "default",
    capabilities: {
      edit: true,
      livePreview: false,
      answersPresses: false,
      threads: false,
      media: true,
      buttons: false,
      maxTextLength: 4096,
      minEditIntervalMs: 100,
    },
    send: async (_a: unknown, m: OutboundMessage) => {
      calls.push({ op: "send", text: m.text, at: Date.now() });
      return { messageId: "m1" };
    },
    edit: async (_a: unknown, id: string, m: OutboundMessage) => {
      assert.equal(id, "m1");
      calls.push({ op: "edit", text: m.text, at: Date.now() });
    },
    isTrusted: () => true,
    health: () => ({ status: "running" as const }),
  } satisfies ChannelAdapter;
  const p = new ProgressMessage({
    adapter,
    address: { channel: "x", account: "default", conversationId: "c" },
    key: "k",
    intervalMs: 150,
    log: createLogger("silent", { pretty: false }),
    onMessageId: () => {},
  });
  for (let i = 1; i <= 20; i++) {
    p.update(`step ${i}/20`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await waitFor(() => calls.some((c) => c.text === "step 20/20"), 2000, "the latest step to be shown");
  await p.finish("done");
  assert.equal(calls[0]!.op, "send");
  assert.ok(calls.slice(1).every((c) => c.op === "edit"));
  assert.ok(calls.length < 10, `expected coalesced edits, got ${calls.length}`);
  for (let i = 2; i < calls.length - 1; i++)
    assert.ok(calls[i]!.at - calls[i - 1]!.at >= 140, "edits respect the interval");
  assert.equal(calls.at(-1)!.text, "done");
});

it("progress lines and schedule timing", () => {
  assert.equal(progressLine(5, 20, "3", "KSampler"), "step 5/20 ▓▓▓░░░░░░░ 25% (node 3 KSampler)");
  assert.equal(parseInterval("90s"), 90);
  assert.equal(parseInterval("10m"), 600);
  assert.equal(parseInterval("2h"), 7200);
  assert.equal(parseInterval("soon"), undefined);
  // Interval ticks stay on the anchor's grid, whenever they are computed.
  const t = { everySec: 60, anchorAt: 1_000_000 };
  assert.equal(nextTickAfter(t, 1_000_000), 1_060_000);
  assert.equal(nextTickAfter(t, 1_059_999), 1_060_000);
  assert.equal(nextTickAfter(t, 1_060_000), 1_120_000);
  const cron = { cron: "0 9 * * *", timezone: "UTC", anchorAt: 0 };
  assert.equal(
    new Date(nextTickAfter(cron, Date.UTC(2030, 0, 1, 8))!).toISOString(),
    "2030-01-01T09:00:00.000Z",
  );
  assert.equal(
    new Date(nextTickAfter(cron, Date.UTC(2030, 0, 1, 9))!).toISOString(),
    "2030-01-02T09:00:00.000Z",
  );
  assert.throws(() => validateCron("every day"), /not a valid cron expression/);
});
