// Test helpers for driving the web chat like a person: send a message, read the thread's history.
import { waitFor } from "../helpers/gateway.ts";

export interface HistoryMessage {
  id: number;
  role: string;
  content: string;
}

export async function newThread(base: string): Promise<string> {
  const res = await fetch(`${base}/api/threads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  return ((await res.json()) as { id: string }).id;
}

export async function say(base: string, thread: string, text: string, userId?: string) {
  const res = await fetch(`${base}/api/threads/${thread}/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(userId ? { text, userId } : { text }),
  });
  if (res.status !== 202) throw new Error(`web chat refused the message: ${res.status} ${await res.text()}`);
}

export async function history(base: string, thread: string): Promise<HistoryMessage[]> {
  const res = await fetch(`${base}/api/threads/${thread}/messages`);
  return ((await res.json()) as { messages: HistoryMessage[] }).messages;
}

/** Waits until a message matching `match` appears in the thread (after `afterId`, when given). */
export function expectMessage(
  base: string,
  thread: string,
  match: (m: HistoryMessage) => boolean,
  what: string,
  timeoutMs = 8000,
): Promise<HistoryMessage> {
  return waitFor(async () => (await history(base, thread)).find(match), timeoutMs, what);
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: res.status, headers: res.headers, json };
}
