// Masks secrets for printing: anything whose key looks like a credential, and passwords inside URLs. It runs on
// whatever a user wrote (error messages quote invalid values), so it is bounded: linear in the text's length,
// and nesting deeper than MAX_MASK_DEPTH is replaced by a marker instead of recursing without end.

const SECRET_KEY = /(token|secret|password|apikey|api_key|accesstoken|aeskey|privatekey|auth)$/i;

export const MAX_MASK_DEPTH = 64;
export const TOO_DEEP = "(nested too deep to show)";

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.replace(/[-_]/g, ""));
}

export function maskSecret(value: string): string {
  if (value.length === 0) return "";
  return value.length > 12 ? `${value.slice(0, 2)}…(${value.length} chars, masked)` : "********";
}

export function maskConfig<T>(value: T, key = ""): T {
  return maskAt(value, key, 0) as T;
}

function maskAt(value: unknown, key: string, depth: number): unknown {
  if (typeof value === "string") {
    if (key && isSecretKey(key)) return maskSecret(value);
    return maskUrlPasswords(value);
  }
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_MASK_DEPTH) return TOO_DEEP;
  if (Array.isArray(value)) return value.map((v) => maskAt(v, key, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = maskAt(v, k, depth + 1);
  return out;
}

const WORD = /\w/;
const isSpace = (ch: string) => /\s/.test(ch);

/**
 * `scheme://user:password@host` → `scheme://user:********@host`, for every such URL in the text. One pass:
 * each "://" is examined once, and the scan after it stops at the first '/', so scans never overlap the next
 * URL's "://" (the regex this replaces backtracked quadratically on long strings).
 */
export function maskUrlPasswords(text: string): string {
  if (!text.includes("://")) return text;
  let out = "";
  let copied = 0;
  let from = 0;
  for (;;) {
    const sep = text.indexOf("://", from);
    if (sep === -1) break;
    from = sep + 3;
    if (sep === 0 || !WORD.test(text[sep - 1]!)) continue;
    // user: one or more of [^:/@\s], then ':'
    let i = sep + 3;
    while (i < text.length && !":/@".includes(text[i]!) && !isSpace(text[i]!)) i++;
    if (i === sep + 3 || text[i] !== ":") continue;
    const passStart = i + 1;
    // password: one or more of [^@/\s], then '@'
    let at = passStart;
    while (at < text.length && !"@/".includes(text[at]!) && !isSpace(text[at]!)) at++;
    if (at === passStart || text[at] !== "@") continue;
    out += `${text.slice(copied, passStart)}********`;
    copied = at;
    from = at;
  }
  return copied === 0 ? text : out + text.slice(copied);
}
