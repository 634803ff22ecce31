// Discord against test/fakes/discord.ts: messages arrive over the gateway WebSocket, so there is no inbound
// request to sign (that step is skipped with the reason); a redelivery is the same MESSAGE_CREATE dispatched
// again, as a RESUME replays what the client may not have seen. Buttons are message components pressed as
// INTERACTION_CREATE; a 429 carries retry_after and Retry-After.
import { type DcFakeMessage, FakeDiscord, fakeDiscordToken } from "../../fakes/discord.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const BOT = {
  id: "223456789012345678",
  username: "contract-bot",
  token: fakeDiscordToken("223456789012345678"),
};
const USER = "600";
const DM = "800000000000000777";

interface Row {
  components?: { label: string; custom_id: string }[];
}

export function discordDriver(): ChannelDriver {
  let dc: FakeDiscord;
  let gw: TestGateway;

  return {
    channel: "discord",
    account: "default",
    async start(o) {
      dc = await new FakeDiscord(BOT).start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            discord: {
              token: BOT.token,
              allowedUsers: [USER],
              apiBase: dc.url,
              readyTimeoutMs: 10_000,
              leaseTtlMs: 2000,
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await dc?.stop();
    },
    address: () => ({ channel: "discord", account: "default", conversationId: DM }),
    async sendText(text) {
      const msg = dc.userMessage({ content: text, channelId: DM, userId: USER });
      return {
        status: 200,
        redeliver: async () => {
          dc.dispatch("MESSAGE_CREATE", msg);
          return 200;
        },
      };
    },
    sendBadSignature: { skip: "the gateway WebSocket delivers messages: no inbound request to sign" },
    messages() {
      return dc.messagesIn(DM).map(
        (m): PlatformMessage => ({
          text: m.content,
          at: m.edits.at(-1)?.at ?? m.createdAt,
          buttons: ((m.components ?? []) as Row[])
            .flatMap((r) => r.components ?? [])
            .map((c) => ({ label: c.label, value: c.custom_id })),
          ref: m,
        }),
      );
    },
    allTexts: () => dc.messagesIn(DM).flatMap((m) => [...m.edits.map((e) => e.content), m.content]),
    editCount: () => dc.calls.filter((c) => c.method === "PATCH" && c.path.includes("/messages/")).length,
    rateLimitNextSend(retryAfterSec) {
      const since = Date.now();
      dc.rateLimit(DM, retryAfterSec, 1);
      return {
        announcedMs: retryAfterSec * 1000,
        refusedAt: () => dc.calls.find((c) => c.status === 429 && c.at >= since)?.at,
      };
    },
    failNextSendPermanently: () => dc.failNext(403, 50007, "Cannot send messages to this user"),
    pressButton: async (message, { value }) => {
      dc.pressButton(message.ref as DcFakeMessage, value, { userId: USER });
      return 200;
    },
  };
}
