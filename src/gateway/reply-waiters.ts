// In-band replies for platforms that take the answer in the webhook's own HTTP response (WeChat passive XML,
// Kakao SkillResponse). A waiter is claimed synchronously just before the reply is committed, so the reply
// goes exactly one way: in-band if claimed in time, otherwise through the outbox.
import type { OutboundMessage } from "../channels/types.ts";

interface Waiter {
  state: "waiting" | "claimed" | "settled";
  resolve(m: OutboundMessage | undefined): void;
  timer: NodeJS.Timeout;
}

export class ReplyWaiters {
  readonly #waiters = new Map<string, Waiter>();

  wait(eventId: string, timeoutMs: number): Promise<OutboundMessage | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        state: "waiting",
        resolve,
        timer: setTimeout(() => {
          if (waiter.state !== "waiting") return;
          waiter.state = "settled";
          this.#waiters.delete(eventId);
          resolve(undefined);
        }, timeoutMs),
      };
      this.#waiters.set(eventId, waiter);
    });
  }

  /** True when someone is waiting in-band: the caller must then call settle() after committing. */
  claim(eventId: string): boolean {
    const w = this.#waiters.get(eventId);
    if (w?.state !== "waiting") return false;
    w.state = "claimed";
    clearTimeout(w.timer);
    return true;
  }

  /** Hands over the committed reply (or undefined when the commit failed). */
  settle(eventId: string, message: OutboundMessage | undefined) {
    const w = this.#waiters.get(eventId);
    if (!w) return;
    this.#waiters.delete(eventId);
    w.state = "settled";
    w.resolve(message);
  }
}
