// Session keys `channel:account:conversation[:thread]`; the account may be left out for a channel's default
// account (`telegram:123456`). A reply must go back to the exact address it came from, so every part is
// escaped: ':' is written `%3A`, and '%' is written `%25` where it would otherwise read as an escape (before
// `3A`, `3a` or `25`). Every other character, '%' included, is written as it is, so every key stored before
// escaping existed (parts without ':') is unchanged. The one exception is the Telegram topic thread
// `topic:<n>`, which has always been stored in that form (`telegram:default:-100:topic:7`) and stays so.
import type { DeliveryAddress } from "./event.ts";

export interface ParsedSessionKey {
  channel: string;
  account: string;
  conversationId: string;
  thread?: string;
}

const TELEGRAM_TOPIC = /^topic:\d+$/;

/** Escapes one part so it contains no ':' and unescapes to itself (see the header). */
export function escapeKeyPart(part: string): string {
  let out = "";
  for (let i = 0; i < part.length; i++) {
    const ch = part[i]!;
    if (ch === ":") out += "%3A";
    else if (ch === "%" && isEscape(part, i)) out += "%25";
    else out += ch;
  }
  return out;
}

export function unescapeKeyPart(part: string): string {
  if (!part.includes("%")) return part;
  let out = "";
  for (let i = 0; i < part.length; i++) {
    const ch = part[i]!;
    if (ch === "%" && isEscape(part, i)) {
      out += part[i + 1] === "2" ? "%" : ":";
      i += 2;
    } else out += ch;
  }
  return out;
}

/** `%3A`, `%3a` or `%25` starts at `i`. */
function isEscape(s: string, i: number): boolean {
  const a = s[i + 1];
  const b = s[i + 2];
  return (a === "3" && (b === "A" || b === "a")) || (a === "2" && b === "5");
}

function escapeThread(thread: string): string {
  return TELEGRAM_TOPIC.test(thread) ? thread : escapeKeyPart(thread);
}

export function formatSessionKey(k: ParsedSessionKey): string {
  const base = `${escapeKeyPart(k.channel)}:${escapeKeyPart(k.account)}:${escapeKeyPart(k.conversationId)}`;
  return k.thread ? `${base}:${escapeThread(k.thread)}` : base;
}

/**
 * Parses a session key written by the gateway, a person or a bridge client. With two parts the account is the
 * default one; with three or more the second part is the account and the last optional part the thread. A
 * conversation id that contains ':' (a Twilio `whatsapp:+1555…` sender) is typed with `%3A` in its place.
 */
export function parseSessionKey(key: string, defaultAccount = "default"): ParsedSessionKey | undefined {
  const raw = key.split(":");
  if (raw.some((p) => p.length === 0)) return undefined;
  const parts = raw.map(unescapeKeyPart);
  if (parts.length === 2) return { channel: parts[0]!, account: defaultAccount, conversationId: parts[1]! };
  if (parts.length === 3) return { channel: parts[0]!, account: parts[1]!, conversationId: parts[2]! };
  if (parts.length === 4)
    return { channel: parts[0]!, account: parts[1]!, conversationId: parts[2]!, thread: parts[3]! };
  if (parts.length === 5 && raw[3] === "topic" && /^\d+$/.test(raw[4]!))
    return { channel: parts[0]!, account: parts[1]!, conversationId: parts[2]!, thread: `topic:${raw[4]}` };
  return undefined;
}

export function addressFromSessionKey(key: string, defaultAccount = "default"): DeliveryAddress | undefined {
  const k = parseSessionKey(key, defaultAccount);
  if (!k) return undefined;
  return { channel: k.channel, account: k.account, conversationId: k.conversationId, thread: k.thread };
}
