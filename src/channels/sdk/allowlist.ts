// Who a channel trusts: senders by id, and conversations (groups, channels, chats) by id. The pipeline asks
// `isTrusted` for every message; a sender on no allowlist meets the DM policy (docs/security.md).
import type { InboundEvent } from "../../core/event.ts";

export class Allowlist {
  readonly #senders: Set<string>;
  readonly #conversations: Set<string>;
  readonly #normalize: (id: string) => string;

  /** `normalize` maps an id to its canonical spelling (a phone number without spaces), on both sides. */
  constructor(
    senders: Iterable<string>,
    conversations: Iterable<string> = [],
    normalize: (id: string) => string = (id) => id,
  ) {
    this.#normalize = normalize;
    this.#senders = new Set([...senders].map(normalize));
    this.#conversations = new Set([...conversations].map(normalize));
  }

  /** The sender is listed, or the conversation the message came from is. */
  has(event: InboundEvent): boolean {
    return (
      this.#senders.has(this.#normalize(event.sender.id)) ||
      this.#conversations.has(this.#normalize(event.conversation.id))
    );
  }

  hasSender(id: string): boolean {
    return this.#senders.has(this.#normalize(id));
  }

  /** How many conversations are listed (none: a channel may then listen everywhere). */
  get conversations(): number {
    return this.#conversations.size;
  }

  hasConversation(id: string): boolean {
    return this.#conversations.has(this.#normalize(id));
  }
}
