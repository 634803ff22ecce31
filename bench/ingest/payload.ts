// The requests the benchmark sends: a LINE-shaped signed webhook (~700 bytes, one text message event) and a
// web chat API message of the same size. Every request carries a fresh id so each one is a real insert.
import { createHmac } from "node:crypto";

/** The channel secret both the baseline and the gateway's LINE channel verify with. */
export const CHANNEL_SECRET = "bench-channel-secret-0123456789ab";
export const CHANNEL_ACCESS_TOKEN = "bench-channel-access-token";

// ~600 characters of message text: a plausible chat message, not a tiny ping.
const TEXT =
  "Hello from the ingest benchmark. This is a chat message of ordinary length, the kind a person types " +
  "into LINE or Slack when they ask an assistant something with a little context: what happened, what " +
  "they tried, what they expect. It is long enough that reading the body, verifying its signature and " +
  "storing it durably cost what they cost in real use, and short enough to be typical. The gateway must " +
  "verify it, normalize it, commit it to the inbox and only then acknowledge it. The baseline does the " +
  "same work with nothing in between: parse, verify, group commit, answer. Compare the two in one run.";

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** A LINE Messaging API webhook body with one text message; `n` makes every id in it unique. */
export function lineWebhookBody(n: number, runId: string): string {
  const user = `U${hex(n % 64, 32)}`;
  return JSON.stringify({
    destination: "Ubench0000000000000000000000000000",
    events: [
      {
        type: "message",
        message: { type: "text", id: `${runId}${n}`, quoteToken: `q${runId}${n}`, text: TEXT },
        webhookEventId: `01BENCH${runId}${hex(n, 12)}`,
        deliveryContext: { isRedelivery: false },
        timestamp: Date.now(),
        source: { type: "user", userId: user },
        replyToken: `r${runId}${hex(n, 24)}`,
        mode: "active",
      },
    ],
  });
}

/** LINE's X-Line-Signature: base64 HMAC-SHA256 of the raw body with the channel secret. */
export function lineSignature(body: string, secret = CHANNEL_SECRET): string {
  return createHmac("sha256", secret).update(body).digest("base64");
}

/** A web chat API message body of about the same size; clientMessageId is the dedup id. */
export function webchatBody(n: number, runId: string): string {
  return JSON.stringify({ text: TEXT, clientMessageId: `bench-${runId}-${n}`, userId: `u${n % 64}` });
}

/** Web chat threads the load is spread over (a person's conversations; each is a lane). */
export const webchatThread = (n: number) => `bench${n % 32}`;
