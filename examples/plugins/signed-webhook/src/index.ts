// The plugin's entry: what clawgate imports when the config says `"plugins": ["clawgate-plugin-signed-webhook"]`.
import { definePlugin } from "../../../../src/plugins/api.ts";
import { signedWebhookModule } from "./channel.ts";

export default definePlugin({
  // The API this plugin was written for, written out: importing PLUGIN_API_VERSION would always match.
  apiVersion: 1,
  name: "signed-webhook",
  channels: [signedWebhookModule],
});
