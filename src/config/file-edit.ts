// Editing the config file's `channels` section, shared by `clawgate channels add|remove` and the console's
// channel settings (PUT/DELETE /admin/api/config/channels/…): read the file as JSON, change one section or
// account, validate the whole file as `clawgate start` reads it, and replace it atomically (temp file + fsync +
// rename), so a crash never leaves half a file and a refused edit leaves the file as it was.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import { formatIssues } from "./errors.ts";
import { configSchema } from "./schema.ts";

export type Doc = Record<string, unknown>;

/** An edit that was refused; `problems` name the key paths when validation refused it. */
export class ConfigEditError extends Error {
  readonly problems: string[];
  /** The channel or account to remove is not there. */
  readonly notFound: boolean;
  constructor(message: string, problems: string[] = [], notFound = false) {
    super(message);
    this.name = "ConfigEditError";
    this.problems = problems;
    this.notFound = notFound;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function readConfigDoc(path: string): Doc {
  if (!existsSync(path)) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigEditError(
      `${path} is not valid JSON (${(err as Error).message}); fix it before editing it`,
    );
  }
  if (!isObject(doc)) throw new ConfigEditError(`${path}: expected a JSON object at the top level`);
  return doc;
}

/** Validates the whole file with the core schema, then replaces it atomically. */
export async function writeConfigDoc(path: string, doc: Doc) {
  const parsed = configSchema.safeParse(doc);
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues, doc);
    throw new ConfigEditError(
      `not saved, the result would be invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      problems,
    );
  }
  await writeFileAtomic(path, `${JSON.stringify(doc, null, 2)}\n`);
}

export async function writeFileAtomic(path: string, text: string) {
  // The file holds secrets: a new file is private; an existing one keeps its mode.
  const mode = existsSync(path) ? statSync(path).mode & 0o777 : 0o600;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fh = await open(tmp, "wx", mode);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

function deepAssign(base: Record<string, unknown>, over: Record<string, unknown>) {
  for (const [k, v] of Object.entries(over)) {
    if (isObject(v) && isObject(base[k])) deepAssign(base[k] as Record<string, unknown>, v);
    else base[k] = v;
  }
}

/**
 * Channel and account names become object keys: a name like "__proto__" would reach the object's prototype
 * (an HTTP caller chooses them), so only plain names are taken.
 */
export function checkName(what: "channel" | "account", name: string) {
  if (!/^[A-Za-z0-9][\w.-]{0,63}$/.test(name) || ["constructor", "prototype"].includes(name))
    throw new ConfigEditError(
      `"${name.slice(0, 80)}" cannot be a ${what} name: use letters, digits, '.', '_' or '-' (at most 64)`,
    );
}

/** The channel's section in `doc`, created when missing; refuses a section that is not an object. */
function sectionOf(doc: Doc, channel: string): Record<string, unknown> {
  checkName("channel", channel);
  if (!isObject(doc.channels)) doc.channels = {};
  const channels = doc.channels as Record<string, unknown>;
  channels[channel] ??= {};
  const section = channels[channel];
  if (!isObject(section))
    throw new ConfigEditError(
      `channels.${channel} in the config file is not an object; fix it by hand first`,
    );
  return section;
}

/** The account's settings object, turning a section without accounts into one with `default` kept alive. */
function accountOf(section: Record<string, unknown>, account: string): Record<string, unknown> {
  checkName("account", account);
  if (!isObject(section.accounts)) {
    // The section's own keys were the default account; keep it alive next to the new one.
    const { enabled: _e, agentUrl: _a, model: _m, ...own } = section;
    section.accounts = Object.keys(own).length > 0 ? { default: {} } : {};
  }
  const accounts = section.accounts as Record<string, Record<string, unknown>>;
  accounts[account] ??= {};
  return accounts[account];
}

const usesSection = (section: Record<string, unknown>, account: string | undefined) =>
  !account || (account === "default" && !isObject(section.accounts));

/** Merges the settings into the section (or account); returns the key path they were written under. */
export function addChannel(
  doc: Doc,
  channel: string,
  account: string | undefined,
  settings: Record<string, unknown>,
): string[] {
  const section = sectionOf(doc, channel);
  if (usesSection(section, account)) {
    section.enabled = true;
    deepAssign(section, settings);
    return ["channels", channel];
  }
  const acc = accountOf(section, account!);
  acc.enabled = true;
  deepAssign(acc, settings);
  return ["channels", channel, "accounts", account!];
}

/** Replaces the section (or account) with `settings` as given; returns the key path written. */
export function putChannel(
  doc: Doc,
  channel: string,
  account: string | undefined,
  settings: Record<string, unknown>,
): string[] {
  const section = sectionOf(doc, channel);
  if (usesSection(section, account)) {
    (doc.channels as Record<string, unknown>)[channel] = settings;
    return ["channels", channel];
  }
  accountOf(section, account!);
  (section.accounts as Record<string, unknown>)[account!] = settings;
  return ["channels", channel, "accounts", account!];
}

/** The section (or account) as written in the file, or undefined. */
export function channelAt(doc: Doc, channel: string, account?: string): unknown {
  const own = (o: unknown, k: string) => (isObject(o) && Object.hasOwn(o, k) ? o[k] : undefined);
  const section = own(doc.channels, channel);
  if (!isObject(section) || usesSection(section, account)) return section;
  return own(section.accounts, account!);
}

/** Removes a channel or one of its accounts; returns what was removed ("telegram/bot2", "channel telegram"). */
export function removeChannel(doc: Doc, channel: string, account: string | undefined): string {
  checkName("channel", channel);
  if (account) checkName("account", account);
  const channels = isObject(doc.channels) ? (doc.channels as Record<string, Record<string, unknown>>) : {};
  const section = Object.hasOwn(channels, channel) ? channels[channel] : undefined;
  if (!section) throw new ConfigEditError(`channel "${channel}" is not in the config file`, [], true);
  const accounts = isObject(section.accounts) ? (section.accounts as Record<string, unknown>) : undefined;
  if (account && accounts) {
    if (!Object.hasOwn(accounts, account))
      throw new ConfigEditError(`channel "${channel}" has no account "${account}"`, [], true);
    delete accounts[account];
    if (Object.keys(accounts).length > 0) return `${channel}/${account}`;
  } else if (account && account !== "default") {
    throw new ConfigEditError(`channel "${channel}" has no account "${account}"`, [], true);
  }
  delete channels[channel];
  return `channel ${channel}`;
}
