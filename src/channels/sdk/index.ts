// The channel SDK: what a channel module (built in or a plugin) is written against. One import for the
// module's contract, its settings helpers and the building blocks every channel repeats. Guide:
// docs/channels/README.md.

export { type SeedEnvSpec, seedEnvSection } from "../shared/seed-env.ts";
export * as settings from "../shared/settings.ts";
export {
  type Button,
  CHANNEL_API_VERSION,
  /** The version a plugin states; the loader refuses a module whose apiVersion differs. */
  CHANNEL_API_VERSION as apiVersion,
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelContext,
  type ChannelHealth,
  type ChannelModule,
  type DoctorCheck,
  type DoctorContext,
  defineChannel,
  type IngestResult,
  type MediaItem,
  type OutboundMessage,
  PermanentDeliveryError,
  RateLimitedError,
  type SendOptions,
  type SentMessage,
  type WebhookRoute,
} from "../types.ts";
export {
  type AccountSettings,
  accountPath,
  type ChannelSettingsSpec,
  channelAccounts,
  DEFAULT_ACCOUNT,
} from "./accounts.ts";
export { Allowlist } from "./allowlist.ts";
export { capabilities } from "./capabilities.ts";
export * as doctor from "./doctor.ts";
export { HealthTracker } from "./health.ts";
export {
  answer,
  type JsonWebhookSpec,
  jsonWebhookRoute,
  refuse,
  type Verdict,
  type WebhookOutcome,
} from "./webhook.ts";
