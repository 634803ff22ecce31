// Every channel module, by name. Adding a channel is one line here (docs/channels/README.md).
import { buildConfigSchema } from "../config/channels-schema.ts";
import { discordFromEnv, discordSettings } from "./discord/config.ts";
import { kakaoModule } from "./kakao/index.ts";
import { lazyChannel } from "./lazy.ts";
import { lineFromEnv, lineSettingsSchema } from "./line/config.ts";
import { slackFromEnv, slackSettingsSchema } from "./slack/config.ts";
import { smsModule } from "./sms/index.ts";
import { telegramFromEnv, telegramSettings } from "./telegram/config.ts";
import { CHANNEL_API_VERSION, type ChannelModule } from "./types.ts";
import { webchatModule } from "./webchat/index.ts";
import { wechatFromEnv, wechatSettingsSchema } from "./wechat/config.ts";
import { whatsappFromEnv, whatsappSettingsSchema } from "./whatsapp/config.ts";

const apiVersion = CHANNEL_API_VERSION;

// The settings of every channel are read at load (they make up the config schema); the adapter code of those
// with a platform client is imported only when the configuration enables them (lazy.ts).
export const channelModules: Record<string, ChannelModule> = {
  webchat: webchatModule,
  slack: lazyChannel(
    { name: "slack", apiVersion, settings: slackSettingsSchema, multiAccount: false, fromEnv: slackFromEnv },
    async () => (await import("./slack/index.ts")).slackModule,
  ),
  line: lazyChannel(
    { name: "line", apiVersion, settings: lineSettingsSchema, multiAccount: false, fromEnv: lineFromEnv },
    async () => (await import("./line/index.ts")).lineModule,
  ),
  whatsapp: lazyChannel(
    {
      name: "whatsapp",
      apiVersion,
      settings: whatsappSettingsSchema,
      multiAccount: false,
      fromEnv: whatsappFromEnv,
    },
    async () => (await import("./whatsapp/index.ts")).whatsappModule,
  ),
  wechat: lazyChannel(
    {
      name: "wechat",
      apiVersion,
      settings: wechatSettingsSchema,
      multiAccount: true,
      fromEnv: wechatFromEnv,
    },
    async () => (await import("./wechat/index.ts")).wechatModule,
  ),
  kakao: kakaoModule,
  sms: smsModule,
  telegram: lazyChannel(
    { ...telegramSettings, apiVersion, fromEnv: telegramFromEnv },
    async () => (await import("./telegram/index.ts")).telegramModule,
  ),
  discord: lazyChannel(
    { ...discordSettings, apiVersion, fromEnv: discordFromEnv },
    async () => (await import("./discord/index.ts")).discordModule,
  ),
};

/**
 * The configuration schema of this build: the core keys plus each module's `channels.<name>` section. Start,
 * `config check`, `channels add` and `config schema` all read files with it. Built per call, so a module
 * registered later (a test channel) is part of it.
 */
export function appConfigSchema(modules: Record<string, ChannelModule> = channelModules) {
  return buildConfigSchema(Object.values(modules));
}

/** The seed env-var mappers, for the config loader. */
export function channelEnvMappers() {
  return Object.fromEntries(
    Object.values(channelModules)
      .filter((m) => m.fromEnv)
      .map((m) => [m.name, m.fromEnv!]),
  );
}

/** Adds the channel modules outside plugins provide (src/plugins/loader.ts has refused doubled names). */
export function addChannelModules(modules: ChannelModule[]) {
  for (const m of modules) channelModules[m.name] = m;
}
