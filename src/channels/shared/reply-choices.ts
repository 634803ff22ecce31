// Buttons on platforms without buttons (WeChat, SMS) or with text-only quick replies (Kakao): the choices are
// shown as text, remembered per conversation for a while, and a reply that picks one ("1", or the label)
// comes back as a button press (InboundEvent.action) carrying the original value.
import type { Store } from "../../store/types.ts";
import type { Button } from "../types.ts";

const NAMESPACE = "reply-choices";
const TTL_MS = 24 * 60 * 60 * 1000;

interface Choice {
  label: string;
  value: string;
}

/** "channel:account:conversation" — one pending set of choices per conversation; a newer set replaces it. */
export function choiceKey(channel: string, account: string, conversationId: string): string {
  return `${channel}:${account}:${conversationId}`;
}

export async function rememberChoices(store: Store, key: string, buttons: Button[]): Promise<void> {
  const choices: Choice[] = buttons.map((b) => ({ label: b.label, value: b.value }));
  await store.kvSet(NAMESPACE, key, JSON.stringify(choices), TTL_MS);
}

/** The value of the choice `text` picks (its number or its exact label), consumed so it fires once. */
export async function resolveChoice(store: Store, key: string, text: string): Promise<string | undefined> {
  const t = text.trim();
  if (!t || t.length > 100) return undefined;
  const raw = await store.kvGet(NAMESPACE, key);
  if (!raw) return undefined;
  let choices: Choice[];
  try {
    choices = JSON.parse(raw) as Choice[];
  } catch {
    return undefined;
  }
  const n = /^\d{1,2}$/.test(t) ? Number(t) : Number.NaN;
  const pick = Number.isInteger(n)
    ? choices[n - 1]
    : choices.find((c) => c.label.toLowerCase() === t.toLowerCase());
  if (!pick) return undefined;
  // Only the first reply that picks a choice gets it; a second "1" is an ordinary message.
  const taken = await store.kvTake(NAMESPACE, key);
  return taken ? pick.value : undefined;
}

/** The choices as numbered lines under the text. */
export function numberedChoices(buttons: Button[]): string {
  return `Reply with a number:\n${buttons.map((b, i) => `${i + 1}. ${b.label}`).join("\n")}`;
}
