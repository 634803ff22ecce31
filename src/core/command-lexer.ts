// Splits a chat command like a shell would, but with double quotes only, so apostrophes in free text
// ("don't") never open a quote. Pure: no I/O.

export const MAX_COMMAND_LENGTH = 4096;

export interface ParsedCommand {
  /** Lower-cased, with the leading "/" and without a Telegram "@botname" suffix: "/run". */
  name: string;
  /** Every token after the command, in order, quotes removed. */
  args: string[];
  /** Tokens that are neither k=v pairs nor flags. */
  positional: string[];
  /** `key=value` tokens (key lower-cased). */
  kv: Record<string, string>;
  /** `--flag`, `--flag=value` and `-f` tokens; the value is `true` when none was given. */
  flags: Record<string, string | true>;
  /** The raw text after the command name, untouched. */
  rest: string;
  /** The "@botname" suffix, when one was present. */
  mention?: string;
}

export type LexResult =
  | { kind: "none" }
  | { kind: "command"; command: ParsedCommand }
  /** `/cmd@otherbot`: a command for another bot in the group (or `/cmd@` for none): not ours to answer. */
  | { kind: "elsewhere"; mention: string }
  | { kind: "error"; reason: "too_long" | "reserved_name"; message: string };

export interface LexOptions {
  /**
   * This bot's name on the platform (Telegram's username). A `/cmd@name` naming another bot is then
   * "elsewhere"; without it only `/cmd@` (no name at all) is, and the channel decides about the rest.
   */
  botName?: string;
}

/** Names that cannot be keys of a plain object: `kv.__proto__ = v` would silently do nothing. */
const RESERVED_NAMES = new Set(["__proto__"]);

const KV = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s;

export function tokenize(input: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < input.length; i++) {
    const ch = input[i]!;
    if (quoted) {
      if (ch === "\\" && (input[i + 1] === '"' || input[i + 1] === "\\")) {
        current += input[++i];
      } else if (ch === '"') {
        quoted = false;
      } else {
        current += ch;
      }
      continue;
    }
    if (ch === '"') {
      quoted = true;
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) tokens.push(current);
      current = "";
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  // An unterminated quote keeps what followed it: the user meant it as text.
  if (inToken) tokens.push(current);
  return tokens;
}

export function lexCommand(text: string, options: LexOptions = {}): LexResult {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("/") || trimmed.length < 2 || /\s/.test(trimmed[1]!)) return { kind: "none" };
  if (text.length > MAX_COMMAND_LENGTH) {
    return {
      kind: "error",
      reason: "too_long",
      message: `Command refused: it is ${text.length} characters long; the limit is ${MAX_COMMAND_LENGTH}.`,
    };
  }
  // The name runs to whitespace or '@'; a bot name is the platform's [A-Za-z0-9_] run after the '@', whatever
  // follows it (`/run@otherbot, x` names otherbot just as `/run@otherbot x` does).
  const head = /^\/[^\s@]*(?:@([A-Za-z0-9_]*))?/.exec(trimmed)!;
  const name = head[0].slice(0, head[1] === undefined ? undefined : -(head[1].length + 1)).toLowerCase();
  if (name === "/") return { kind: "none" };
  const mention = head[1];
  if (mention !== undefined) {
    const ours = options.botName?.toLowerCase();
    if (mention === "" || (ours !== undefined && mention.toLowerCase() !== ours))
      return { kind: "elsewhere", mention };
  }
  const rest = trimmed.slice(head[0].length).trim();
  const args = tokenize(rest);
  const positional: string[] = [];
  const kv: Record<string, string> = {};
  const flags: Record<string, string | true> = {};
  for (const token of args) {
    let key: string | undefined;
    if (token.startsWith("--") && token.length > 2) {
      const eq = token.indexOf("=");
      key = (eq === -1 ? token.slice(2) : token.slice(2, eq)).toLowerCase();
      if (!RESERVED_NAMES.has(key)) flags[key] = eq === -1 ? true : token.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(token)) {
      flags[token.slice(1)] = true;
    } else {
      const m = KV.exec(token);
      if (m) {
        key = m[1]!.toLowerCase();
        if (!RESERVED_NAMES.has(key)) kv[key] = m[2]!;
      } else positional.push(token);
    }
    if (key !== undefined && RESERVED_NAMES.has(key)) {
      return {
        kind: "error",
        reason: "reserved_name",
        message: `Command refused: "${key}" cannot be used as a setting or flag name.`,
      };
    }
  }
  return {
    kind: "command",
    command: { name, args, positional, kv, flags, rest, ...(mention ? { mention } : {}) },
  };
}
