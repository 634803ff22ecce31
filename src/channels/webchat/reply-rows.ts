// Which stored history row a delivery shows, so the page finds it by id (two replies may well say the same).
// A reply to a message: its rows are written with the inbox commit, before any delivery, in the order of the
// replies, and the delivery's idempotency key ends with the reply's index (the web chat never splits a reply).
// A notification (job results, approvals): the gateway writes its row right after queueing the delivery, with no
// link to it; it is the oldest row without an eventId, written since the delivery was queued, with the same text
// and no delivery of its own yet. When the row is not written yet, the frame names none and the page shows the
// event.
import { splitMediaRefs } from "../../media/history-refs.ts";
import type { Store, StoredMessage } from "../../store/types.ts";

/** Recent rows looked at; a delivery far behind its row (a long outage) falls back to the event's text. */
const LOOK_BACK = 200;
const REPLY_ROLES = new Set(["assistant", "system", "error"]);

export class ReplyRows {
  readonly #store: Store;
  /** Rows already named by a notification, per thread (bounded like LOOK_BACK). */
  readonly #taken = new Map<string, number[]>();

  constructor(store: Store) {
    this.#store = store;
  }

  async find(
    sessionKey: string,
    text: string,
    opts: { eventId?: string; idempotencyKey?: string },
  ): Promise<number | undefined> {
    const rows = (await this.#store.listMessages(sessionKey, { last: LOOK_BACK })).filter((m) =>
      REPLY_ROLES.has(m.role),
    );
    if (opts.eventId) {
      const index = Number(/:(\d+)$/.exec(opts.idempotencyKey ?? "")?.[1] ?? Number.NaN);
      if (!Number.isInteger(index)) return undefined;
      return rows.filter((m) => m.eventId === opts.eventId)[index]?.id;
    }
    const queued = opts.idempotencyKey
      ? (await this.#store.findOutboundByKey(opts.idempotencyKey))?.createdAt
      : undefined;
    if (queued === undefined) return undefined;
    const taken = this.#taken.get(sessionKey) ?? [];
    const row = rows.find(
      (m) => !m.eventId && m.createdAt >= queued && !taken.includes(m.id) && sameText(m, text),
    );
    if (!row) return undefined;
    taken.push(row.id);
    if (taken.length > LOOK_BACK) taken.shift();
    this.#taken.set(sessionKey, taken);
    return row.id;
  }
}

/** History keeps an error without the ⚠️ the live message has, and images a delivery kept as reference lines. */
function sameText(m: StoredMessage, text: string): boolean {
  const stored = m.role === "system" ? splitMediaRefs(m.content).text : m.content;
  const norm = (t: string) => t.replace(/^⚠️\s*/u, "").trim();
  return norm(stored) === norm(text);
}
