// Our Slack signature check against Slack's own verifier (@slack/bolt's isValidSlackRequest), as an
// independent check of both the signing in the test fake and the verification in the channel.
import assert from "node:assert/strict";
import { it } from "node:test";
import { isValidSlackRequest } from "@slack/bolt";
import { verifySlackRequest } from "../../src/channels/slack/ingress.ts";
import { slackSignature } from "../fakes/slack.ts";

const secret = "8f742231b10e8888abcd99yyyzzz85a5";
const body = JSON.stringify({
  type: "event_callback",
  event_id: "Ev1",
  event: { type: "message", text: "hi" },
});

function boltAccepts(headers: Record<string, string>, rawBody: string, nowMs: number) {
  return isValidSlackRequest({
    signingSecret: secret,
    body: rawBody,
    headers: {
      "x-slack-signature": headers["x-slack-signature"]!,
      "x-slack-request-timestamp": Number(headers["x-slack-request-timestamp"]),
    },
    nowMilliseconds: nowMs,
  });
}

it("a request signed like Slack signs it is accepted by both Slack's verifier and ours", () => {
  const now = Date.now();
  const headers = slackSignature(secret, body, Math.floor(now / 1000));
  assert.equal(boltAccepts(headers, body, now), true);
  assert.deepEqual(verifySlackRequest(secret, headers, Buffer.from(body), now), { ok: true });
});

it("both verifiers refuse a tampered body, a wrong secret and a stale timestamp", () => {
  const now = Date.now();
  const headers = slackSignature(secret, body, Math.floor(now / 1000));
  const tampered = body.replace("hi", "ho");
  assert.equal(boltAccepts(headers, tampered, now), false);
  assert.equal(verifySlackRequest(secret, headers, Buffer.from(tampered), now).ok, false);

  const wrong = slackSignature("another-secret", body, Math.floor(now / 1000));
  assert.equal(boltAccepts(wrong, body, now), false);
  assert.equal(verifySlackRequest(secret, wrong, Buffer.from(body), now).ok, false);

  const staleTs = Math.floor(now / 1000) - 301;
  const stale = slackSignature(secret, body, staleTs);
  assert.equal(boltAccepts(stale, body, now), false);
  assert.deepEqual(verifySlackRequest(secret, stale, Buffer.from(body), now), {
    ok: false,
    status: 403,
    reason: "stale request: timestamp is more than 5 minutes off",
  });
});
