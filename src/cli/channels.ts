// `clawgate channels list | status | add | remove`: what is configured, how it is doing, and editing the
// config file's `channels` section (atomic write: temp file + rename, so a crash never leaves half a file).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { appConfigSchema, channelEnvMappers, channelModules } from "../channels/registry.ts";
import { ADD_CHANNEL_HINT } from "../config/channels-schema.ts";
import { ConfigError } from "../config/errors.ts";
import {
  addChannel,
  ConfigEditError,
  type Doc,
  readConfigDoc,
  removeChannel,
  writeConfigDoc,
} from "../config/file-edit.ts";
import { agentUrlFor, resolveConfig } from "../config/load.ts";
import { maskConfig } from "../config/mask.ts";
import type { Config } from "../config/schema.ts";
import { adminCall, fail, type GlobalOptions, load } from "./context.ts";

export { addChannel, removeChannel, writeFileAtomic } from "../config/file-edit.ts";

export function registerChannels(program: Command) {
  const channels =
    program.commands.find((c) => c.name() === "channels") ??
    program.command("channels").description("chat channel accounts");

  channels
    .command("list")
    .description("configured channels and accounts, their listener and effective agent URL")
    .option("--all", "include disabled channels and accounts")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean; all?: boolean }, cmd: Command) => {
      const all = listChannels(load(cmd, { sections: "as written" }).config);
      const rows = opts.all ? all : all.filter((r) => r.enabled);
      const hidden = all.length - rows.length;
      if (hidden > 0 && !opts.json) console.log(`(${hidden} disabled not shown: --all lists them)`);
      if (opts.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0)
        return console.log("No channels configured. Add one with `clawgate channels add`.");
      for (const r of rows) {
        console.log(
          `${r.channel}/${r.account}${r.enabled ? "" : " (disabled)"}${r.known ? "" : " (unknown channel)"}\n` +
            `  listener: ${r.listener}${r.path ? ` path ${r.path}` : ""}\n  agentUrl: ${r.agentUrl}`,
        );
      }
    });

  channels
    .command("status")
    .description("health of each running channel: last inbound, last outbound, last error (asks the gateway)")
    .option("--channel <name>", "only this channel")
    .option("--json", "print JSON")
    .action(async (opts: { channel?: string; json?: boolean }, cmd: Command) => {
      const status = (await adminCall(cmd, "GET", "/admin/api/status")) as {
        channels: ChannelStatus[];
      };
      const rows = status.channels.filter((c) => !opts.channel || c.channel === opts.channel);
      if (opts.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return console.log("No channels are running.");
      for (const c of rows) console.log(formatStatus(c, Date.now()));
    });

  channels
    .command("add")
    .description(
      "add or update a channel (account) in the config file: --channel <name> [--account id] [--<key> value …]",
    )
    .requiredOption("--channel <name>", "channel name (wechat, kakao, sms, telegram …)")
    .option("--account <id>", "account id, for several bots on one channel")
    .option("--force", "allow a channel name clawgate does not know")
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (opts: { channel: string; account?: string; force?: boolean }, cmd: Command) => {
      const settings = parseSettingArgs(cmd.args);
      if (!(opts.channel in channelModules) && !opts.force) {
        fail(
          `unknown channel "${opts.channel}"; known: ${Object.keys(channelModules).join(", ")}. To add a channel, ${ADD_CHANNEL_HINT} (--force to write the section anyway)`,
        );
      }
      const path = configFilePath(cmd, true);
      const doc = edit(() => readConfigDoc(path));
      const target = edit(() => addChannel(doc, opts.channel, opts.account, settings));
      let remaining: string[] = [];
      if (opts.channel in channelModules) {
        const typed = typeSettings(doc, target, stringLeaves(settings), process.env);
        if (typed.refused.length > 0) {
          fail(
            `not saved, clawgate start would refuse these settings:\n${typed.refused.map((p) => `  - ${p}`).join("\n")}`,
          );
        }
        remaining = typed.remaining.filter((p) => p.startsWith(`channels.${opts.channel}`));
      }
      await writeValidated(path, doc);
      const section = (doc.channels as Record<string, unknown>)[opts.channel];
      console.log(
        `Saved ${opts.channel}${opts.account ? `/${opts.account}` : ""} to ${path}:\n${JSON.stringify(maskConfig(section), null, 2)}\nRun \`clawgate reload\` (or send SIGHUP) to apply it to a running gateway.`,
      );
      if (remaining.length > 0) {
        process.stderr.write(
          `clawgate: note: start will refuse ${opts.channel} until these are fixed:\n${remaining.map((p) => `  - ${p}`).join("\n")}\n`,
        );
      }
    });

  channels
    .command("remove")
    .description("remove a channel, or one of its accounts, from the config file")
    .requiredOption("--channel <name>", "channel name")
    .option("--account <id>", "remove only this account")
    .action(async (opts: { channel: string; account?: string }, cmd: Command) => {
      const path = configFilePath(cmd, false);
      const doc = edit(() => readConfigDoc(path));
      const what = edit(() => removeChannel(doc, opts.channel, opts.account));
      await writeValidated(path, doc);
      console.log(`Removed ${what} from ${path}. Run \`clawgate reload\` to apply it to a running gateway.`);
    });
}

export interface ChannelRow {
  channel: string;
  account: string;
  enabled: boolean;
  known: boolean;
  listener: string;
  path?: string;
  agentUrl: string;
}

export function listChannels(config: Config): ChannelRow[] {
  const main = `http://${hostForUrl(config.server.host)}:${config.server.port}`;
  const rows: ChannelRow[] = [];
  if (config.webchat.enabled) {
    rows.push({
      channel: "webchat",
      account: "web",
      enabled: true,
      known: true,
      listener: main,
      path: "/",
      agentUrl: agentUrlFor(config, "webchat"),
    });
  }
  for (const [name, section] of Object.entries(config.channels)) {
    const accounts = section.accounts ? Object.entries(section.accounts) : [["default", {}] as const];
    for (const [account, acc] of accounts) {
      const merged = { ...section, ...acc } as Record<string, unknown>;
      const listen = merged.listen as { host?: string; port?: number } | undefined;
      rows.push({
        channel: name,
        account,
        enabled: section.enabled !== false && (acc as { enabled?: boolean }).enabled !== false,
        known: name in channelModules,
        listener:
          listen?.port !== undefined
            ? `http://${hostForUrl(listen.host ?? "127.0.0.1")}:${listen.port} and ${main}`
            : main,
        path: typeof merged.path === "string" ? merged.path : undefined,
        agentUrl: agentUrlFor(config, name, account),
      });
    }
  }
  return rows;
}

interface ChannelStatus {
  channel: string;
  account: string;
  status: string;
  listen?: { host: string; port: number };
  lastInboundAt?: number;
  lastOutboundAt?: number;
  lastError?: { at: number; message: string };
  state?: string;
  agentUrl?: string;
}

export function formatStatus(c: ChannelStatus, now: number): string {
  const ago = (t?: number) => (t ? `${Math.max(0, Math.round((now - t) / 1000))} s ago` : "never");
  const lines = [
    `${c.channel}/${c.account}: ${c.state === "stopped" ? "stopped" : c.status}${c.listen ? ` (own listener ${c.listen.host}:${c.listen.port})` : ""}`,
    ...(c.agentUrl ? [`  agent:         ${c.agentUrl}`] : []),
    `  last inbound:  ${ago(c.lastInboundAt)}`,
    `  last outbound: ${ago(c.lastOutboundAt)}`,
  ];
  if (c.lastError) lines.push(`  last error:    ${ago(c.lastError.at)}: ${c.lastError.message}`);
  return lines.join("\n");
}

/**
 * `--key value`, `--key=value`, `--flag` (true); dotted keys set nested values (`--listen.port 8097`).
 * "true"/"false" become booleans and values that look like JSON arrays or objects are parsed.
 */
export function parseSettingArgs(args: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--") || arg === "--")
      fail(`unexpected argument "${arg}": settings are given as --<key> <value>`);
    let key = arg.slice(2);
    let raw: string | undefined;
    const eq = key.indexOf("=");
    if (eq >= 0) {
      raw = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (i + 1 < args.length && !args[i + 1]!.startsWith("--")) {
      raw = args[++i];
    }
    if (!/^[A-Za-z][\w]*(\.[A-Za-z][\w]*)*$/.test(key)) fail(`"--${key}" is not a setting name`);
    setPath(out, key.split("."), parseValue(raw));
  }
  return out;
}

function parseValue(raw: string | undefined): unknown {
  if (raw === undefined || raw === "true") return true;
  if (raw === "false") return false;
  if (/^\s*[[{]/.test(raw)) {
    try {
      return JSON.parse(raw);
    } catch {
      fail(`value ${JSON.stringify(raw)} looks like JSON but does not parse`);
    }
  }
  return raw;
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown) {
  let t = target;
  for (const p of path.slice(0, -1)) {
    if (!t[p] || typeof t[p] !== "object" || Array.isArray(t[p])) t[p] = {};
    t = t[p] as Record<string, unknown>;
  }
  t[path.at(-1)!] = value;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The settings given as plain strings on the command line (not JSON, not true/false), by key path. */
export function stringLeaves(settings: Record<string, unknown>, prefix: string[] = []) {
  const out: { path: string[]; raw: string }[] = [];
  for (const [k, v] of Object.entries(settings)) {
    if (typeof v === "string") out.push({ path: [...prefix, k], raw: v });
    else if (isObject(v)) out.push(...stringLeaves(v, [...prefix, k]));
  }
  return out;
}

/**
 * A command line only gives strings; the channel's own validation (what `start` runs) decides what each one
 * is: a number where a number is expected (`--listen.port 18099`), a list where a list is (`--allowedUsers
 * U1,U2`), else the string. A setting no reading of which is valid is refused. Returns the problems left that
 * are not about the given settings (a required secret not given yet, say).
 */
export function typeSettings(
  doc: Doc,
  target: string[],
  leaves: { path: string[]; raw: string }[],
  env: Record<string, string | undefined>,
): { refused: string[]; remaining: string[] } {
  const refused: string[] = [];
  const about = (problems: string[], key: string) =>
    problems.filter((p) => p.startsWith(`${key}:`) || p.startsWith(`${key}.`));
  for (const { path, raw } of leaves) {
    const full = [...target, ...path];
    const key = full.join(".");
    const candidates: unknown[] = [];
    const n = Number(raw);
    if (raw.trim() !== "" && Number.isFinite(n) && String(n) === raw) candidates.push(n);
    candidates.push(raw);
    candidates.push(
      raw
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    );
    let last: string[] = [];
    let chosen = false;
    for (const value of candidates) {
      setPath(doc, full, value);
      last = about(startProblems(doc, env), key);
      if (last.length === 0) {
        chosen = true;
        break;
      }
    }
    if (!chosen) {
      setPath(doc, full, raw);
      refused.push(...last);
    }
  }
  return { refused, remaining: refused.length ? [] : startProblems(doc, env) };
}

/** What `clawgate start` would say about this file: the schema assembled from the channel modules. */
function startProblems(doc: Doc, env: Record<string, string | undefined>): string[] {
  try {
    resolveConfig(structuredClone(doc), env, { channelEnv: channelEnvMappers(), schema: appConfigSchema() });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}
/** The file `add`/`remove` edit: --config, $CLAWGATE_CONFIG, $OCG_CONFIG_PATH, ./clawgate.json, ./ocg.json. */
function configFilePath(cmd: Command, create: boolean): string {
  const o = cmd.optsWithGlobals() as GlobalOptions;
  const explicit = o.config ?? process.env.CLAWGATE_CONFIG ?? process.env.OCG_CONFIG_PATH;
  const path = explicit
    ? resolve(explicit)
    : (["clawgate.json", "ocg.json"].map((n) => resolve(n)).find((p) => existsSync(p)) ??
      resolve("clawgate.json"));
  if (!create && !existsSync(path)) fail(`config file ${path} does not exist`);
  return path;
}

/** The config-file edit, with a refused edit said on stderr (exit 1) like every CLI failure. */
function edit<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigEditError) fail(err.message);
    throw err;
  }
}

async function writeValidated(path: string, doc: Doc) {
  try {
    await writeConfigDoc(path, doc);
  } catch (err) {
    if (err instanceof ConfigEditError) fail(err.message);
    throw err;
  }
}

function hostForUrl(host: string): string {
  if (host === "0.0.0.0") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}
