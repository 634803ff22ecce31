// Reading a channel section's accounts (src/config/channel-accounts.ts), for channel code: the validated
// settings per account, and each account's webhook path.
import type { z } from "zod";
import {
  type AccountSettings,
  type ChannelSettingsSpec,
  DEFAULT_ACCOUNT,
  readAccounts,
} from "../../config/channel-accounts.ts";
import { ConfigError, formatIssues } from "../../config/errors.ts";
import type { ChannelSection } from "../../config/schema.ts";

export {
  type AccountSettings,
  type ChannelSettingsSpec,
  DEFAULT_ACCOUNT,
  readAccounts,
} from "../../config/channel-accounts.ts";

/**
 * The enabled accounts' settings; throws a ConfigError naming each key path (`channels.wechat.accounts.ops.token`)
 * when any is invalid. For callers holding a section the config schema has not seen (tests, `clawgate telegram`).
 */
export function channelAccounts<S extends z.ZodType>(
  spec: ChannelSettingsSpec<S>,
  section: ChannelSection,
): AccountSettings<z.output<S>>[] {
  const { accounts, issues } = readAccounts(spec, section);
  if (issues.length > 0) {
    const zodLike = issues.map((i) => ({ ...i, code: "custom" as const, input: undefined }));
    throw new ConfigError(`channels.${spec.name}`, formatIssues(zodLike, section, ["channels", spec.name]));
  }
  return accounts;
}

/** Account "default" keeps the channel's path; other accounts get `<path>/<account>` unless they set one. */
export function accountPath(basePath: string, account: string, explicit: string | undefined): string {
  if (explicit) return explicit;
  return account === DEFAULT_ACCOUNT ? basePath : `${basePath.replace(/\/+$/, "")}/${account}`;
}
