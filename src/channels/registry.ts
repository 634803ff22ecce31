// Every channel module, by name. Adding a channel is one line here.
import type { ChannelModule } from "./types.ts";
import { webchatModule } from "./webchat/index.ts";
import { wechatModule } from "./wechat/index.ts";
import { kakaoModule } from "./kakao/index.ts";

export const channelModules: Record<string, ChannelModule> = {
  webchat: webchatModule,
  wechat: wechatModule,
  kakao: kakaoModule,
};

/** The seed env-var mappers, for the config loader. */
export function channelEnvMappers() {
  return Object.fromEntries(
    Object.values(channelModules)
      .filter((m) => m.fromEnv)
      .map((m) => [m.name, m.fromEnv!]),
  );
}
