// The channel contract suite (clawgate's test/contract/suite.ts) for the signed-webhook plugin, against the fake
// platform in fake-platform.ts: the plugin is loaded through `plugins` in the config, as a user loads it.
// It is the suite's ChannelDriver, checked structurally where contract.test.ts passes it to channelContract().
import { resolve } from "node:path";
import type { GatewayExtension } from "../../../../src/gateway/gateway.ts";
import { startTestGateway, type TestGateway } from "../../../../test/helpers/gateway.ts";
import { FakeSignedPlatform } from "./fake-platform.ts";

const INBOUND_SECRET = "contract-inbound-secret-0123";
const OUTBOUND_SECRET = "contract-outbound-secret-0123";
const USER = "contract-user";

export function signedWebhookDriver() {
  let platform: FakeSignedPlatform;
  let gw: TestGateway;
  let seq = 0;
  const hook = () => `${gw.url}/hooks/signed-webhook`;

  return {
    channel: "signed-webhook",
    account: "default",
    async start(o: { agentUrl: string; config: Record<string, unknown>; extensions: GatewayExtension[] }) {
      platform = await new FakeSignedPlatform(INBOUND_SECRET, OUTBOUND_SECRET).start();
      gw = await startTestGateway({
        config: {
          ...o.config,
          agentUrl: o.agentUrl,
          plugins: [resolve(import.meta.dirname, "../src/index.ts")],
          channels: {
            "signed-webhook": {
              secret: INBOUND_SECRET,
              outboundUrl: platform.url,
              outboundSecret: OUTBOUND_SECRET,
              allowFrom: [USER],
            },
          },
        },
        extensions: o.extensions,
      });
      return gw;
    },
    async stop() {
      await gw?.stop();
      await platform?.stop();
    },
    address: () => ({ channel: "signed-webhook", account: "default", conversationId: USER }),
    async sendText(text: string) {
      const message = { id: `c${++seq}`, from: USER, conversation: USER, text };
      const { status } = await platform.deliver(hook(), message);
      return { status, redeliver: async () => (await platform.deliver(hook(), message)).status };
    },
    sendBadSignature: async (text: string) =>
      (
        await platform.deliver(
          hook(),
          { id: `c${++seq}`, from: USER, conversation: USER, text },
          { secret: "not-the-secret-0123456789" },
        )
      ).status,
    messages: () => platform.replies.map((r) => ({ text: r.text, at: r.at, buttons: [] })),
    // The platform has no edit API, and the channel declares none.
    editCount: () => 0,
    rateLimitNextSend(retryAfterSec: number) {
      platform.failNext(429, { "retry-after": String(retryAfterSec) });
      return { announcedMs: retryAfterSec * 1000, refusedAt: () => platform.lastRefusal(429) };
    },
    failNextSendPermanently: () => platform.failNext(400),
    pressButton: { skip: "the platform has no buttons" },
  };
}
