// Every channel module, by name. Adding a channel is one line here (docs/channels/README.md).
import { buildConfigSchema } from "../config/channels-schema.ts";
import { discordModule } from "./discord/index.ts";
import { kakaoModule } from "./kakao/index.ts";
import { lineModule } from "./line/index.ts";
import { slackModule } from "./slack/index.ts";
import { smsModule } from "./sms/index.ts";
import { telegramModule } from "./telegram/index.ts";
import type { ChannelModule } from "./types.ts";
import { webchatModule } from "./webchat/index.ts";
import { wechatModule } from "./wechat/index.ts";
import { whatsappModule } from "./whatsapp/index.ts";

export const channelModules: Record<string, ChannelModule> = {
  webchat: webchatModule,
  slack: slackModule,
  line: lineModule,
  whatsapp: whatsappModule,
  wechat: wechatModule,
  kakao: kakaoModule,
  sms: smsModule,
  telegram: telegramModule,
  discord: discordModule,
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
