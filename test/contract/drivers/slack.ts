// Slack against test/fakes/slack.ts: Events API requests signed with the v0 scheme, redelivery as Slack retries
// (same event, X-Slack-Retry-Num), Block Kit buttons pressed through the interactivity endpoint. A message's text
// is its last chat.update, else what chat.postMessage posted.
import { FakeSlack, type SlackCall, slackEventEnvelope, slackSignature } from "../../fakes/slack.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const SECRET = "slack-contract-secret";
const USER = "UCONTRACT";
const DM = "DCONTRACT";

interface SlackBlock {
  type: string;
  elements?: { type: string; text: { text: string }; value: string }[];
}

export function slackDriver(): ChannelDriver {
  let slack: FakeSlack;
  let gw: TestGateway;
  let seq = 0;

  const post = async (
    path: string,
    raw: string,
    contentType: string,
    o: { secret?: string; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${gw.url}${path}`, {
      method: "POST",
      headers: { "content-type": contentType, ...slackSignature(o.secret ?? SECRET, raw), ...o.headers },
      body: raw,
    });
    await res.body?.cancel();
    return res.status;
  };
  const dm = (text: string) => ({
    type: "message",
    channel: DM,
    channel_type: "im",
    user: USER,
    text,
    ts: `${1_800_000_000 + ++seq}.000300`,
  });

  return {
    channel: "slack",
    account: "default",
    async start(o) {
      slack = await new FakeSlack().start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            slack: {
              botToken: slack.token,
              signingSecret: SECRET,
              allowedUsers: [USER],
              apiBase: slack.apiBase,
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await slack?.stop();
    },
    address: () => ({ channel: "slack", account: "default", conversationId: DM }),
    async sendText(text) {
      const raw = JSON.stringify(slackEventEnvelope(dm(text)));
      const status = await post("/slack/events", raw, "application/json");
      return {
        status,
        redeliver: () =>
          post("/slack/events", raw, "application/json", {
            headers: { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" },
          }),
      };
    },
    sendBadSignature: (text) =>
      post("/slack/events", JSON.stringify(slackEventEnvelope(dm(text))), "application/json", {
        secret: "not-the-signing-secret",
      }),
    messages() {
      const updates = slack.callsTo("chat.update").filter((u) => !u.error);
      const posts = slack.callsTo("chat.postMessage").filter((p) => p.ts !== undefined);
      return posts.map((post): PlatformMessage => {
        const last = updates.findLast((u) => u.args.ts === post.ts && u.args.channel === post.args.channel);
        const shown: SlackCall = last ?? post;
        const blocks = (shown.args.blocks ?? []) as SlackBlock[];
        return {
          text: String(shown.args.text ?? ""),
          at: shown.at,
          buttons: blocks
            .filter((b) => b.type === "actions")
            .flatMap((b) => b.elements ?? [])
            .map((e) => ({ label: e.text.text, value: e.value })),
          ref: post,
        };
      });
    },
    allTexts: () =>
      slack.calls
        .filter((c) => (c.method === "chat.postMessage" || c.method === "chat.update") && !c.error)
        .map((c) => String(c.args.text ?? "")),
    editCount: () => slack.callsTo("chat.update").length,
    rateLimitNextSend(retryAfterSec) {
      const since = Date.now();
      slack.rateLimitNext(1, retryAfterSec, ["chat.postMessage", "chat.update"]);
      return {
        announcedMs: retryAfterSec * 1000,
        refusedAt: () => slack.rateLimited.find((r) => r.at >= since)?.at,
      };
    },
    failNextSendPermanently: () => slack.failNext("channel_not_found"),
    pressButton: (message, { value }) => {
      const ts = String((message.ref as SlackCall).ts);
      const payload = {
        type: "block_actions",
        user: { id: USER, username: "contract" },
        channel: { id: DM },
        container: { type: "message", message_ts: ts, channel_id: DM },
        message: { ts, text: message.text },
        actions: [
          {
            action_id: "clawgate_0",
            block_id: "clawgate_actions",
            value,
            type: "button",
            action_ts: `${1_800_000_000 + ++seq}.000400`,
          },
        ],
        trigger_id: `t${seq}`,
        response_url: "https://hooks.slack.invalid/actions/contract",
      };
      const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      return post("/slack/interactivity", form, "application/x-www-form-urlencoded");
    },
  };
}
