// Each enabled channel account's own checks (ChannelModule.doctor), run side by side; a channel without any says
// so, and one whose checks throw is reported instead of ending the run.
import type { Logger } from "pino";
import { channelAccounts } from "../channels/sdk/accounts.ts";
import type { DoctorCheck, DoctorContext } from "../channels/types.ts";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import { enabledChannels } from "../gateway/channel-setup.ts";
import type { Store } from "../store/types.ts";

export interface ChannelAccountRef {
  channel: string;
  account: string;
}

/** Every enabled channel account, in registry order. */
export function enabledAccounts(
  config: Config,
): (ChannelAccountRef & { run?: (ctx: DoctorContext) => Promise<DoctorCheck[]> })[] {
  return enabledChannels(config).flatMap(({ name, module, section }) =>
    channelAccounts(module, section).map(({ account, settings }) => ({
      channel: name,
      account,
      run: module.doctor ? (ctx: DoctorContext) => module.doctor!(settings as never, ctx) : undefined,
    })),
  );
}

export async function channelChecks(
  config: Config,
  env: Env,
  store: Store,
  log: Logger,
): Promise<DoctorCheck[]> {
  const accounts = enabledAccounts(config).filter((a) => a.channel !== "webchat");
  const results = await Promise.all(
    accounts.map(async ({ channel, account, run }): Promise<DoctorCheck[]> => {
      const id = `${channel}.${account}`;
      if (!run) {
        return [
          {
            id,
            title: `${channel} (${account})`,
            status: "skip",
            detail: "this channel has no doctor checks",
          },
        ];
      }
      try {
        return await run({ account, config, env, store, log });
      } catch (err) {
        return [
          {
            id,
            title: `${channel} (${account})`,
            status: "fail",
            detail: `the channel's checks failed: ${(err as Error).message}`,
            fix: "report this with the output of clawgate doctor --json",
          },
        ];
      }
    }),
  );
  return results.flat();
}
