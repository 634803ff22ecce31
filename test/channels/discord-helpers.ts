// Shared setup for the Discord tests: a fake Discord (REST + gateway socket), a fake agent, and a gateway configured
// through the connector seed's env vars pointing at them.
import type { GatewayExtension } from "../../src/gateway/gateway.ts";
import { FakeDiscord, type FakeDiscordBot, fakeDiscordToken } from "../fakes/discord.ts";
import { FakeAgent, type FakeAgentOptions } from "../fakes/openai-agent.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

export const DC_BOT: FakeDiscordBot = {
  id: "123456789012345678",
  username: "clawgate-test",
  token: fakeDiscordToken("123456789012345678"),
};

export interface DiscordSetup {
  fake: FakeDiscord;
  agent: FakeAgent;
  gw: TestGateway;
  close(): Promise<void>;
}

export async function setupDiscord(
  o: {
    agent?: FakeAgentOptions;
    discord?: Record<string, unknown>;
    config?: Record<string, unknown>;
    env?: Record<string, string>;
    extensions?: GatewayExtension[];
    fake?: FakeDiscord;
  } = {},
): Promise<DiscordSetup> {
  const fake = o.fake ?? (await new FakeDiscord(DC_BOT).start());
  const agent = await new FakeAgent(o.agent ?? {}).start();
  const gw = await startTestGateway({
    config: {
      agentUrl: agent.url,
      ...o.config,
      channels: { discord: { readyTimeoutMs: 5000, ...o.discord } },
    },
    env: {
      OPENCLAW_CONNECTOR_DISCORD_TOKEN: DC_BOT.token,
      OPENCLAW_CONNECTOR_DISCORD_ALLOWED_USERS: "500,501",
      OPENCLAW_CONNECTOR_DISCORD_API_BASE: fake.url,
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
