// What an operator reads in the log when LINE sends events clawgate skips: a real gateway process at its default
// info level, so the lines are the ones a deployment shows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeLine, lineId, lineTextEvent, lineWebhookSignature } from "../fakes/line.ts";
import { FakeAgent } from "../fakes/openai-agent.ts";
import { startChildGateway, waitFor } from "../helpers/gateway.ts";

const SECRET = "line-log-secret";
const ALICE = lineId("U", "log-alice");

test("events without webhookEventId or with an unreadable shape are logged (type and source, no text or token) and the rest is answered", {
  timeout: 60_000,
}, async () => {
  const line = await new FakeLine().start();
  const agent = await new FakeAgent().start();
  const gw = await startChildGateway({
    config: {
      agentUrl: agent.url,
      channels: {
        line: {
          channelSecret: SECRET,
          channelAccessToken: line.token,
          allowedUsers: [ALICE],
          apiBase: line.url,
        },
      },
    },
  });
  try {
    const { webhookEventId: _, ...noId } = lineTextEvent({
      text: "private words",
      userId: ALICE,
      replyToken: "secret-reply-token",
    });
    const malformed = lineTextEvent({ text: "@bot more private words", userId: ALICE });
    (malformed.message as Record<string, unknown>).mention = { mentionees: "not a list" };
    const body = JSON.stringify({
      destination: "Ubot",
      events: [noId, malformed, lineTextEvent({ text: "the readable one", userId: ALICE })],
    });
    const res = await fetch(`${gw.url}/line/webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-line-signature": lineWebhookSignature(SECRET, body) },
      body,
    });
    assert.equal(res.status, 200);
    await waitFor(
      () => line.texts().includes("echo: the readable one"),
      15_000,
      "the readable event answered",
    );

    const lines = gw
      .output()
      .split("\n")
      .filter((l) => l.includes("LINE event"));
    const dropped = lines.find((l) => l.includes("without webhookEventId"));
    assert.ok(dropped, `a log line for the event without id in:\n${lines.join("\n")}`);
    const d = JSON.parse(dropped);
    assert.equal(d.level, 30, "info level");
    assert.equal(d.type, "message");
    assert.equal(d.source.userId, ALICE);
    const skipped = lines.find((l) => l.includes("shape is not what LINE documents"));
    assert.ok(skipped, "a log line for the unreadable event");
    assert.ok(JSON.parse(skipped).problems.some((p: string) => p.includes("mentionees")));
    for (const l of lines) assert.ok(!/private words|secret-reply-token/.test(l), `no text or token in ${l}`);
    assert.ok(!agent.requests.some((r) => /private words/.test(String(r.body.messages.at(-1)?.content))));
  } finally {
    await gw.kill("SIGTERM");
    await agent.stop();
    await line.stop();
  }
});
