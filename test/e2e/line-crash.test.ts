// Exactly once on LINE across crashes: a stream of signed LINE webhooks into a real gateway process, SIGKILL at
// random moments, restart on the same directory, several rounds. Every message the gateway acknowledged is
// answered exactly once at the fake LINE API, counted per message over replies and pushes together.
//
// The fake answers late (latencyMs): LINE has taken a reply before its answer arrives, so a kill often lands
// between the two, which is the case that used to become a second message (a push after the reply).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../fakes/line.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { type ChildGateway, startChildGateway, tempDir, waitFor } from "../helpers/gateway.ts";

const SECRET = "line-crash-secret";
const USERS = Array.from({ length: 10 }, (_, i) => lineId("U", `crash-user-${i}`));
const ROUNDS = 4;

interface Sent {
  text: string;
  body: string;
  acknowledged: boolean;
}

test("LINE under SIGKILL: every acknowledged message is answered exactly once", {
  timeout: 120_000,
}, async () => {
  const line = await new FakeLine().start();
  line.latencyMs = 120;
  const agent = await new FakeAgent({ noStream: true, headerDelayMs: 40 }).start();
  const dir = tempDir("clawgate-line-crash-");
  const opts = {
    dir,
    config: {
      agentUrl: agent.url,
      agent: { retries: 0 },
      inbox: { leaseMs: 2000, concurrency: 8 },
      outbox: { leaseMs: 2000 },
      channels: {
        line: {
          channelSecret: SECRET,
          channelAccessToken: line.token,
          allowedUsers: USERS,
          apiBase: line.url,
        },
      },
    },
  };
  const sent: Sent[] = [];
  let n = 0;
  const newEvent = (userId: string): Sent => {
    const text = `m${n++}`;
    const event = lineTextEvent({
      text,
      userId,
      replyToken: line.issueReplyToken(),
      webhookEventId: `01J${randomBytes(12).toString("hex").toUpperCase()}`,
    });
    return { text, body: JSON.stringify({ destination: "Ubot", events: [event] }), acknowledged: false };
  };
  /** As LINE does: POST the signed body; 200 means the gateway took it. A cut connection is not an answer. */
  const deliver = async (gw: ChildGateway, s: Sent) => {
    try {
      const res = await fetch(`${gw.url}/line/webhook`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-line-signature": lineWebhookSignature(SECRET, s.body),
        },
        body: s.body,
      });
      await res.arrayBuffer();
      if (res.status === 200) s.acknowledged = true;
    } catch {
      // the gateway died mid-request
    }
  };
  const answers = (text: string) => line.texts().filter((t) => t === `echo: ${text}`).length;

  try {
    let gw = await startChildGateway(opts);
    for (let round = 0; round < ROUNDS; round++) {
      // LINE redelivers what was never acknowledged (same webhookEventId): so does this test.
      for (const s of sent.filter((x) => !x.acknowledged)) await deliver(gw, s);
      let stop = false;
      const senders = USERS.map(async (user) => {
        while (!stop) {
          const s = newEvent(user);
          sent.push(s);
          await deliver(gw, s);
          if (!s.acknowledged) return;
        }
      });
      // Kill once answers are going out, at a random moment after that.
      const callsBefore = line.calls.length;
      await waitFor(() => line.calls.length >= callsBefore + 5, 30_000, "answers going out");
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 600)));
      await gw.kill("SIGKILL");
      stop = true;
      await Promise.all(senders);
      gw = await startChildGateway(opts);
    }
    for (const s of sent.filter((x) => !x.acknowledged)) await deliver(gw, s);
    const acknowledged = sent.filter((s) => s.acknowledged);
    assert.ok(acknowledged.length >= ROUNDS * USERS.length, `${acknowledged.length} acknowledged`);

    try {
      await waitFor(
        () => acknowledged.every((s) => answers(s.text) >= 1),
        60_000,
        `every acknowledged message answered (${acknowledged.filter((s) => answers(s.text) >= 1).length} of ${acknowledged.length})`,
      );
      // Nothing left that could still send: a retry of an in-doubt delivery would show up as a second answer.
      await waitFor(
        async () => {
          const res = await fetch(`${gw.url}/admin/api/status`);
          const s = (await res.json()) as Record<"inbox" | "outbox", { pending: number; leased: number }>;
          return s.inbox.pending + s.inbox.leased + s.outbox.pending + s.outbox.leased === 0;
        },
        30_000,
        "inbox and outbox drained",
      );
    } finally {
      await gw.kill("SIGTERM");
    }

    const twice = sent.filter((s) => answers(s.text) > 1).map((s) => `${s.text}×${answers(s.text)}`);
    assert.deepEqual(twice, [], "no message answered twice");
    for (const s of acknowledged) assert.equal(answers(s.text), 1, `${s.text} answered exactly once`);
    assert.ok(
      line.refused.some((r) => r.message === "Invalid reply token"),
      "at least one in-doubt reply was settled by LINE's refusal of its used token",
    );
  } finally {
    await agent.stop();
    await line.stop();
  }
});
