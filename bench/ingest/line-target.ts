// How the benchmark reaches the gateway's LINE channel: its config section and webhook path.
import { CHANNEL_ACCESS_TOKEN, CHANNEL_SECRET } from "./payload.ts";

export const lineGatewayTarget = {
  config: {
    channels: {
      line: { enabled: true, channelSecret: CHANNEL_SECRET, channelAccessToken: CHANNEL_ACCESS_TOKEN },
    },
  },
  path: "/webhooks/line",
};
