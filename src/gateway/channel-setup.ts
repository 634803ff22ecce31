// Which channel sections become adapters. The settings were validated by the config schema the channel modules
// assembled (src/config/channels-schema.ts), which `clawgate config check` and `channels add` use too; each
// enabled account is read here once more (the same schema, so never a new refusal for a loaded file) and handed
// to its module's create().
import { channelModules } from "../channels/registry.ts";
import type { ChannelAdapter, ChannelModule } from "../channels/types.ts";
import type { Config } from "../config/schema.ts";

/** The enabled channel sections, in registry order (the web chat follows `webchat.enabled`). */
export function enabledChannels(
  config: Config,
  modules: Record<string, ChannelModule> = channelModules,
): { name: string; module: ChannelModule; section: Config["channels"][string] }[] {
  const out = [];
  for (const [name, module] of Object.entries(modules)) {
    const section = config.channels[name];
    const enabled = name === "webchat" ? config.webchat.enabled : section && section.enabled !== false;
    if (enabled) out.push({ name, module, section: section ?? {} });
  }
  return out;
}

/** Optional features a channel declares in its capabilities, and the method each one needs. */
const DECLARED_FEATURES = [
  ["edit", "edit"],
  ["livePreview", "preview"],
  ["answersPresses", "answerAction"],
  ["downloads", "fetchAttachment"],
] as const;

/** A declared feature must be there to call: what the gateway may do is what the capabilities say. */
export function checkDeclaredFeatures(adapter: ChannelAdapter, key: string): void {
  for (const [capability, method] of DECLARED_FEATURES) {
    if (adapter.capabilities[capability] && typeof adapter[method] !== "function") {
      throw new Error(`channel ${key} declares capabilities.${capability} but has no ${method}()`);
    }
  }
}
