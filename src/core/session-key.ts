// Session keys `channel:account:conversation[:thread]`; the account may be left out for a channel's default
// account (`telegram:123456`). Conversation ids never contain ':' on our platforms except Telegram topics,
// which we encode as `chatId:topic:N` — so parsing is channel-aware only in how many parts it joins.
import type { DeliveryAddress } from "./event.ts";

export interface ParsedSessionKey {
  channel: string;
  account: string;
  conversationId: string;
  thread?: string;
}

export function formatSessionKey(k: ParsedSessionKey): string {
  const base = `${k.channel}:${k.account}:${k.conversationId}`;
  return k.thread ? `${base}:${k.thread}` : base;
}

/**
 * Parses a session key written by a person or a bridge client. With two parts the account is the default
 * one; with three or more the second part is the account and the last optional part the thread.
 */
export function parseSessionKey(key: string, defaultAccount = "default"): ParsedSessionKey | undefined {
  const parts = key.split(":");
  if (parts.some((p) => p.length === 0)) return undefined;
  if (parts.length === 2) return { channel: parts[0]!, account: defaultAccount, conversationId: parts[1]! };
  if (parts.length === 3) return { channel: parts[0]!, account: parts[1]!, conversationId: parts[2]! };
  if (parts.length === 4)
    return { channel: parts[0]!, account: parts[1]!, conversationId: parts[2]!, thread: parts[3]! };
  if (parts.length === 5 && parts[3] === "topic")
    return { channel: parts[0]!, account: parts[1]!, conversationId: parts[2]!, thread: `topic:${parts[4]}` };
  return undefined;
}

export function addressFromSessionKey(key: string, defaultAccount = "default"): DeliveryAddress | undefined {
  const k = parseSessionKey(key, defaultAccount);
  if (!k) return undefined;
  return { channel: k.channel, account: k.account, conversationId: k.conversationId, thread: k.thread };
}
