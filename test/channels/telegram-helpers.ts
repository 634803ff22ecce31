// Shared setup for the Telegram tests: a fake Bot API, a fake agent, and a gateway configured through the
// connector seed's env vars pointing at them.
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { FakeAgent, type FakeAgentOptions } from "../fakes/openai-agent.ts";
import { type FakeBot, FakeTelegram } from "../fakes/telegram.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

export const BOT: FakeBot = { token: "111111:AAbbCCddEEffGGhh", id: 111111, username: "clawgate_test_bot" };
export const OTHER_BOT: FakeBot = {
  token: "222222:ZZyyXXwwVVuuTTss",
  id: 222222,
  username: "second_test_bot",
};

export interface TelegramSetup {
  fake: FakeTelegram;
  agent: FakeAgent;
  gw: TestGateway;
  close(): Promise<void>;
}

export async function setupTelegram(
  o: {
    agent?: FakeAgentOptions;
    telegram?: Record<string, unknown>;
    config?: Record<string, unknown>;
    env?: Record<string, string>;
    extensions?: GatewayExtension[];
    bots?: FakeBot[];
    fake?: FakeTelegram;
  } = {},
): Promise<TelegramSetup> {
  const fake = o.fake ?? (await new FakeTelegram(o.bots ?? [BOT, OTHER_BOT]).start());
  const agent = await new FakeAgent(o.agent ?? {}).start();
  const gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      ...o.config,
      channels: { telegram: { leaseTtlMs: 2000, ...o.telegram } },
    },
    env: {
      OPENCLAW_CONNECTOR_TELEGRAM_TOKEN: BOT.token,
      OPENCLAW_CONNECTOR_TELEGRAM_ALLOWED_USERS: "42, 43",
      OPENCLAW_CONNECTOR_TELEGRAM_API_BASE: fake.url,
      ...o.env,
    },
    extensions: o.extensions,
  });
  return {
    fake,
    agent,
    gw,
    close: async () => {
      await gw.stop();
      await agent.stop();
      if (!o.fake) await fake.stop();
    },
  };
}

/** Gaps between consecutive send/edit calls to one chat, in ms. */
export function sendGaps(fake: FakeTelegram, chatId: number | string): number[] {
  const times = fake.calls
    .filter(
      (c) =>
        ["sendMessage", "editMessageText", "sendPhoto", "sendDocument"].includes(c.method) &&
        String(c.params.chat_id) === String(chatId),
    )
    .map((c) => c.at);
  return times.slice(1).map((t, i) => t - times[i]!);
}
