// What an outside plugin exports, and the one entry point plugin code imports from. A plugin is a module whose
// default export (or export named `plugin`) is a ClawgatePlugin: the same ChannelModule the built-in channels
// implement, so a plugin channel is wired, validated and delivered exactly like a built-in one.
import { CHANNEL_API_VERSION, type ChannelModule } from "../channels/types.ts";

/**
 * The plugin API this clawgate offers. Raised when a change would break a plugin written for the previous
 * version (a ChannelModule or ChannelContext member removed or changed in meaning); additions do not raise it.
 */
export const PLUGIN_API_VERSION = CHANNEL_API_VERSION;

export interface ClawgatePlugin {
  /** The plugin API the plugin was written for: must equal PLUGIN_API_VERSION. */
  apiVersion: number;
  /** Shown by `clawgate plugins list` and in load errors. */
  name: string;
  /** Channel modules, each providing `channels.<module.name>` in the config. */
  channels?: ChannelModule[];
  // Reserved for what later API versions let plugins provide (extensions, targets): a plugin declaring a kind
  // this clawgate does not know is refused rather than half loaded.
}

/** What a factory-form plugin receives: this module (types are imported with `import type` from clawgate). */
export type PluginSdk = typeof import("./api.ts");

/** Identity with a type: `export default definePlugin({ … })` gets the shape checked by the editor. */
export function definePlugin(plugin: ClawgatePlugin): ClawgatePlugin {
  return plugin;
}

/** The settings schema library the gateway validates with: use this one, not a copy of your own. */
export { z } from "zod";

// Building blocks the built-in channels share (the SDK's; see docs/plugins.md).
export {
  Allowlist,
  accountPath,
  capabilities,
  channelAccounts,
  /** Building blocks for a channel's `doctor()`: ok, warn, failed, publicUrlCheck, describeFailure. */
  doctor,
  HealthTracker,
  jsonWebhookRoute,
} from "../channels/sdk/index.ts";
export { type SeedEnvSpec, seedEnvSection } from "../channels/shared/seed-env.ts";
export { idArraySchema, listenSchema, pathSchema } from "../channels/shared/settings.ts";
export type {
  ChannelAdapter,
  ChannelCapabilities,
  ChannelContext,
  ChannelHealth,
  ChannelModule,
  DoctorCheck,
  DoctorContext,
  OutboundMessage,
  SendOptions,
  SentMessage,
  WebhookRoute,
} from "../channels/types.ts";
// What plugin code needs at run time: the errors the outbox understands. A published plugin imports them from
// clawgate (a peer dependency), so `instanceof` sees the same classes the gateway does.
export { PermanentDeliveryError, RateLimitedError } from "../channels/types.ts";
export type { Env } from "../config/env.ts";
export { ConfigError } from "../config/errors.ts";
export type { ChannelSection } from "../config/schema.ts";
export type { DeliveryAddress, InboundEvent } from "../core/event.ts";
export { safeEqual, sendJson } from "../http/respond.ts";
