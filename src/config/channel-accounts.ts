// One channel section, one or several accounts, validated by the channel's own settings schema. The section's
// own keys are the "default" account; each entry of `accounts` inherits them and overrides what it sets. The
// config schema runs this (channels-schema.ts), so `config check`, `start` and `channels add` refuse the same
// sections, and the gateway hands each adapter settings that are already valid. Lives in config/ so the config
// schema never imports a channel.
import type { z } from "zod";
import type { ChannelSection, Config } from "./schema.ts";

export const DEFAULT_ACCOUNT = "default";

/** What the accounts of a section are read with: the part of a ChannelModule that is about settings. */
export interface ChannelSettingsSpec<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  /** One account's settings. */
  readonly settings: S;
  /** Takes `channels.<name>.accounts.<id>`; a channel without it reads the section's own keys only. */
  readonly multiAccount: boolean;
  /** Account ids this channel accepts, where they appear in session keys and URLs. */
  readonly accountId?: { pattern: RegExp; hint: string };
  /** Older spellings of settings keys, e.g. the seed's `token` for `botToken`. */
  readonly aliases?: Readonly<Record<string, string>>;
  /**
   * Problems only the whole configuration shows (a URL built from server.publicBaseUrl), for one valid account;
   * paths are inside the account's settings.
   */
  checkWithConfig?(settings: z.output<S>, account: string, config: Config): SettingsIssue[];
}

export interface AccountSettings<T> {
  account: string;
  settings: T;
}

/** A problem with its key path inside the section (`["accounts", "ops", "token"]`). */
export interface SettingsIssue {
  path: PropertyKey[];
  message: string;
}

/** Keys the gateway itself reads from a section; not the channel's settings. */
const GATEWAY_KEYS = ["enabled", "accounts", "agentUrl", "model", "dmPolicy"];

function withAliases(raw: Record<string, unknown>, aliases: Readonly<Record<string, string>> = {}) {
  const out = { ...raw };
  for (const [old, key] of Object.entries(aliases)) {
    if (!(old in out)) continue;
    out[key] ??= out[old];
    delete out[old];
  }
  return out;
}

/** Every enabled account's settings, or the problems that stop them (every account is checked). */
export function readAccounts<S extends z.ZodType>(
  spec: ChannelSettingsSpec<S>,
  section: ChannelSection,
): { accounts: AccountSettings<z.output<S>>[]; issues: SettingsIssue[]; raw: Map<string, unknown> } {
  const base: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) if (!GATEWAY_KEYS.includes(k)) base[k] = v;
  const entries: [string, Record<string, unknown>, PropertyKey[]][] =
    spec.multiAccount && section.accounts
      ? Object.entries(section.accounts).map(([id, acc]) => [
          id,
          { ...base, ...withoutGatewayKeys(acc) },
          ["accounts", id],
        ])
      : [[DEFAULT_ACCOUNT, base, []]];
  const accounts: AccountSettings<z.output<S>>[] = [];
  const issues: SettingsIssue[] = [];
  const raw = new Map<string, unknown>();
  for (const [account, values, path] of entries) {
    const own = spec.multiAccount && section.accounts ? section.accounts[account] : section;
    if (own?.enabled === false) continue;
    if (spec.accountId && !spec.accountId.pattern.test(account)) {
      issues.push({ path: path.slice(0, 1), message: `account id "${account}": ${spec.accountId.hint}` });
      continue;
    }
    const input = withAliases(values, spec.aliases);
    raw.set(account, input);
    const parsed = spec.settings.safeParse(input);
    if (parsed.success) accounts.push({ account, settings: parsed.data });
    else for (const i of parsed.error.issues) issues.push({ path: [...path, ...i.path], message: i.message });
  }
  return { accounts, issues, raw };
}

function withoutGatewayKeys(acc: Record<string, unknown>) {
  const { enabled: _e, agentUrl: _a, model: _m, dmPolicy: _d, ...rest } = acc;
  return rest;
}
