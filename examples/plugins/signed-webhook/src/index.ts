// The plugin's entry: what clawgate imports when the config says `"plugins": ["clawgate-plugin-signed-webhook"]`.
// The factory form: the gateway calls it with its SDK.
import type { ClawgatePlugin, PluginSdk } from "../../../../src/plugins/api.ts";
import { signedWebhookChannel } from "./channel.ts";

export default (sdk: PluginSdk): ClawgatePlugin => ({
  // The API this plugin was written for, written out: importing PLUGIN_API_VERSION would always match.
  apiVersion: 1,
  name: "signed-webhook",
  channels: [signedWebhookChannel(sdk)],
});
