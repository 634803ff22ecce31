// The requests the benchmark sends, each about 700 bytes with one text message: a LINE webhook and a Slack
// Events API callback (both signed the way the platforms sign them), and a web chat API message. Every request
// carries fresh ids, so each one is a real insert and never a dedup hit.
import { createHmac } from "node:crypto";

export const BODY_BYTES = 700;

/** Secrets shared by the baseline, the load generator and the gateway's channel config. */
export const LINE_CHANNEL_SECRET = "bench-line-channel-secret-0123456789";
export const SLACK_SIGNING_SECRET = "bench-slack-signing-secret-0123456789";

// A plausible chat message, cut to fit each body to BODY_BYTES.
const TEXT =
  "Hello from the ingest benchmark. This is a chat message of ordinary length, the kind a person types " +
  "into LINE or Slack when they ask an assistant something with a little context: what happened, what " +
  "they tried, what they expect. It is long enough that reading the body, verifying its signature and " +
  "storing it durably cost what they cost in real use, and short enough to be typical. The gateway must " +
  "verify it, normalize it, commit it to the inbox and only then acknowledge it. ".repeat(2);

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** Builds body(n, text) with the text cut so the whole body is about BODY_BYTES long. */
function sized(build: (n: number, runId: string, text: string) => string) {
  const overhead = build(0, "run", "").length;
  const text = TEXT.slice(0, Math.max(16, BODY_BYTES - overhead));
  return (n: number, runId: string) => build(n, runId, text);
}

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/** A LINE Messaging API webhook with one text message event, with its X-Line-Signature. */
export const lineWebhook = (() => {
  const body = sized((n, runId, text) =>
    JSON.stringify({
      destination: "Ubench0000000000000000000000000000",
      events: [
        {
          type: "message",
          message: { type: "text", id: `${runId}${n}`, quoteToken: `q${runId}${n}`, text },
          webhookEventId: `01B${runId}${hex(n, 12)}`,
          deliveryContext: { isRedelivery: false },
          timestamp: Date.now(),
          source: { type: "user", userId: `U${hex(n % 64, 32)}` },
          replyToken: `r${runId}${hex(n, 24)}`,
          mode: "active",
        },
      ],
    }),
  );
  return (n: number, runId: string): SignedRequest => {
    const b = body(n, runId);
    // X-Line-Signature: base64 HMAC-SHA256 of the raw body with the channel secret.
    const sig = createHmac("sha256", LINE_CHANNEL_SECRET).update(b).digest("base64");
    return { body: b, headers: { "x-line-signature": sig } };
  };
})();

/** A Slack Events API event_callback for a direct message, with its v0 signature and timestamp. */
export const slackEvent = (() => {
  const body = sized((n, runId, text) => {
    const ts = `${Math.floor(Date.now() / 1000)}.${String(n).padStart(6, "0")}`;
    return JSON.stringify({
      token: "bench",
      team_id: "TBENCH",
      api_app_id: "ABENCH",
      event: {
        type: "message",
        channel: `D${hex(n % 64, 8).toUpperCase()}`,
        channel_type: "im",
        user: `U${hex(n % 64, 8).toUpperCase()}`,
        text,
        ts,
        event_ts: ts,
      },
      type: "event_callback",
      event_id: `Ev${runId}${hex(n, 10)}`,
      event_time: Math.floor(Date.now() / 1000),
    });
  });
  return (n: number, runId: string): SignedRequest => {
    const b = body(n, runId);
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = createHmac("sha256", SLACK_SIGNING_SECRET).update(`v0:${ts}:${b}`).digest("hex");
    return {
      body: b,
      headers: { "x-slack-request-timestamp": ts, "x-slack-signature": `v0=${sig}` },
    };
  };
})();

/** A web chat API message body; clientMessageId is the dedup id. */
export const webchatBody = sized((n, runId, text) =>
  JSON.stringify({ text, clientMessageId: `bench-${runId}-${n}`, userId: `u${n % 64}` }),
);

/** Web chat threads the load is spread over (a person's conversations; each is a lane). */
export const webchatThread = (n: number) => `bench${n % 32}`;
