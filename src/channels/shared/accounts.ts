// One channel section, several accounts: the section's own keys are the "default" account, and each entry
// of `accounts` inherits them and overrides what it sets. A section with only `accounts` has no default.

import type { z } from "zod";
import { ConfigError, formatIssues } from "../../config/errors.ts";
import type { ChannelSection } from "../../config/schema.ts";

export const DEFAULT_ACCOUNT = "default";

export interface AccountSettings<T> {
  account: string;
  settings: T;
}

/**
 * Validates every enabled account of `section` with `schema` and returns them. Errors name the key path
 * (`channels.wechat.accounts.ops.token`) so the user knows what to fix.
 */
export function channelAccounts<S extends z.ZodType>(
  channel: string,
  section: ChannelSection,
  schema: S,
): AccountSettings<z.output<S>>[] {
  const { accounts, enabled: _enabled, ...base } = section;
  const entries: [string, Record<string, unknown>, string[]][] = accounts
    ? Object.entries(accounts).map(([id, acc]) => [
        id,
        { ...base, ...acc },
        ["channels", channel, "accounts", id],
      ])
    : [[DEFAULT_ACCOUNT, base, ["channels", channel]]];
  const out: AccountSettings<z.output<S>>[] = [];
  for (const [account, raw, path] of entries) {
    if (raw.enabled === false) continue;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      throw new ConfigError(`channels.${channel}`, formatIssues(parsed.error.issues, raw, path));
    }
    out.push({ account, settings: parsed.data });
  }
  return out;
}

/** Account "default" keeps the channel's path; other accounts get `<path>/<account>` unless they set one. */
export function accountPath(basePath: string, account: string, explicit: string | undefined): string {
  if (explicit) return explicit;
  return account === DEFAULT_ACCOUNT ? basePath : `${basePath.replace(/\/+$/, "")}/${account}`;
}

/**
 * Validates a single-account channel's section (no `accounts`): the keys the gateway itself reads are left
 * out, and errors name the key path (`channels.slack.botToken`).
 */
export function sectionSettings<S extends z.ZodType>(
  channel: string,
  section: ChannelSection,
  schema: S,
): z.output<S> {
  const { enabled: _e, accounts: _a, agentUrl: _u, model: _m, dmPolicy: _d, ...raw } = section;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      `channels.${channel}`,
      formatIssues(parsed.error.issues, raw, ["channels", channel]),
    );
  }
  return parsed.data;
}
