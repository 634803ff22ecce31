// Extensions that remember something about every incoming message, addressed or not (ComfyUI remembers a
// message's photos so a later `/run` reply can use them). An observer is cheap and synchronous: it only says what
// to write, and the writes commit in the same transaction as the message's completion, so a crash cannot keep
// one without the other.
import type { InboundEvent } from "../core/event.ts";
import type { InboxEffects } from "../store/types.ts";

export type KvEffect = NonNullable<InboxEffects["kv"]>[number];

/** What to remember about an incoming message, or nothing. */
export type InboundObserver = (event: InboundEvent) => KvEffect[] | undefined;

export class InboundObservers {
  readonly #observers: InboundObserver[] = [];

  add(observer: InboundObserver): void {
    this.#observers.push(observer);
  }

  effectsOf(event: InboundEvent): KvEffect[] {
    return this.#observers.flatMap((o) => o(event) ?? []);
  }
}
