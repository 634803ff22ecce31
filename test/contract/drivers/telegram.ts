// Telegram against test/fakes/telegram.ts, in either receive mode:
// - "webhook": updates are POSTed to the gateway with X-Telegram-Bot-Api-Secret-Token (the webhook's secret
//   token is Telegram's only proof of origin, so a wrong one is the "bad signature"); a redelivery is the same
//   update posted again, as Telegram retries an unanswered webhook.
// - "polling": the gateway long-polls getUpdates, so there is no inbound request to sign: that step is skipped
//   with the reason. A redelivery is the same update (same update_id) served again, as after a poller crash
//   before it confirmed the offset.
// Buttons are inline keyboards pressed as callback_query updates; a 429 carries parameters.retry_after.
import { type FakeBot, type FakeMessage, FakeTelegram } from "../../fakes/telegram.ts";
import { startTestGateway, type TestGateway } from "../../helpers/gateway.ts";
import type { ChannelDriver, PlatformMessage } from "../suite.ts";

const BOT: FakeBot = { token: "333333:ContractBotToken_x", id: 333333, username: "contract_test_bot" };
const USER = 4242;
const SECRET = "contract_Webhook-secret";

export function telegramDriver(mode: "polling" | "webhook"): ChannelDriver {
  let tg: FakeTelegram;
  let gw: TestGateway;
  let messageId = 1;
  let updateId = 500_000;

  const hook = () => `${gw.url}/telegram/default/webhook`;
  const postUpdate = async (update: Record<string, unknown>, secret = SECRET) => {
    const res = await fetch(hook(), {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secret },
      body: JSON.stringify(update),
    });
    await res.body?.cancel();
    return res.status;
  };
  /** Hands the update to the gateway the way this mode receives it; 200 where there is no request of ours. */
  const deliver = async (update: Record<string, unknown>) => {
    if (mode === "webhook") return postUpdate(update);
    tg.pushUpdate(BOT.token, update);
    return 200;
  };
  const textUpdate = (text: string) => ({
    update_id: ++updateId,
    message: {
      message_id: ++messageId,
      from: { id: USER, is_bot: false, first_name: "Contract", username: "contract_user" },
      chat: { id: USER, type: "private" },
      date: Math.floor(Date.now() / 1000),
      text,
    },
  });

  return {
    channel: "telegram",
    account: "default",
    label: mode,
    async start(o) {
      tg = await new FakeTelegram([BOT]).start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          channels: {
            telegram: {
              botToken: BOT.token,
              allowedUsers: [String(USER)],
              apiBase: tg.url,
              mode,
              leaseTtlMs: 2000,
              ...(mode === "webhook" ? { webhookSecret: SECRET } : {}),
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await tg?.stop();
    },
    address: () => ({ channel: "telegram", account: "default", conversationId: String(USER) }),
    async sendText(text) {
      const update = textUpdate(text);
      const status = await deliver(update);
      return { status, redeliver: () => deliver(update) };
    },
    sendBadSignature:
      mode === "webhook"
        ? (text) => postUpdate(textUpdate(text), `${SECRET}-wrong`)
        : { skip: "long polling: the gateway fetches updates from Telegram, no inbound request to sign" },
    messages() {
      return tg.messages(BOT.token, USER).map((m): PlatformMessage => {
        const keyboard =
          (m.reply_markup as { inline_keyboard?: { text: string; callback_data?: string }[][] } | undefined)
            ?.inline_keyboard ?? [];
        return {
          text: m.text,
          at: m.edits.at(-1)?.at ?? m.sentAt,
          buttons: keyboard.flat().map((b) => ({ label: b.text, value: String(b.callback_data) })),
          ref: m,
        };
      });
    },
    allTexts: () => tg.messages(BOT.token, USER).flatMap((m) => [...m.edits.map((e) => e.text), m.text]),
    editCount: () => tg.callsTo("editMessageText").length,
    rateLimitNextSend(retryAfterSec) {
      const since = Date.now();
      tg.rateLimit(USER, retryAfterSec, 1);
      return {
        announcedMs: retryAfterSec * 1000,
        refusedAt: () => tg.calls.find((c) => c.status === 429 && c.at >= since)?.at,
      };
    },
    failNextSendPermanently: () => tg.failNextSend(400, "Bad Request: chat not found"),
    pressButton: async (message, { value }) => {
      const update = {
        update_id: ++updateId,
        callback_query: {
          id: `cbq-contract-${updateId}`,
          from: { id: USER, is_bot: false, first_name: "Contract", username: "contract_user" },
          chat_instance: "1",
          data: value,
          message: {
            message_id: (message.ref as FakeMessage).message_id,
            from: { id: BOT.id, is_bot: true, first_name: "Bot" },
            chat: { id: USER, type: "private" },
            date: 0,
            text: message.text,
          },
        },
      };
      return deliver(update);
    },
  };
}
