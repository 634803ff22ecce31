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
  | { kind: "error"; reason: "too_long"; message: string };

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

export function lexCommand(text: string): LexResult {
  const trimmed = text.trimStart();
  if (!trimmed.startsWith("/") || trimmed.length < 2 || /\s/.test(trimmed[1]!)) return { kind: "none" };
  if (text.length > MAX_COMMAND_LENGTH) {
    return {
      kind: "error",
      reason: "too_long",
      message: `Command refused: it is ${text.length} characters long; the limit is ${MAX_COMMAND_LENGTH}.`,
    };
  }
  const headEnd = trimmed.search(/\s/);
  const head = headEnd === -1 ? trimmed : trimmed.slice(0, headEnd);
  const rest = headEnd === -1 ? "" : trimmed.slice(headEnd).trim();
  const at = head.indexOf("@");
  const name = (at === -1 ? head : head.slice(0, at)).toLowerCase();
  const mention = at === -1 ? undefined : head.slice(at + 1);
  if (name === "/") return { kind: "none" };
  const args = tokenize(rest);
  const positional: string[] = [];
  const kv: Record<string, string> = {};
  const flags: Record<string, string | true> = {};
  for (const token of args) {
    if (token.startsWith("--") && token.length > 2) {
      const eq = token.indexOf("=");
      if (eq === -1) flags[token.slice(2).toLowerCase()] = true;
      else flags[token.slice(2, eq).toLowerCase()] = token.slice(eq + 1);
    } else if (/^-[A-Za-z]$/.test(token)) {
      flags[token.slice(1)] = true;
    } else {
      const m = KV.exec(token);
      if (m) kv[m[1]!.toLowerCase()] = m[2]!;
      else positional.push(token);
    }
  }
  return { kind: "command", command: { name, args, positional, kv, flags, rest, mention } };
}
