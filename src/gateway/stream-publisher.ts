// Shows a reply while the agent is still writing it. Channels with a live view (web chat) get every delta;
// channels that can edit get one message that is edited at most once per `minEditIntervalMs`, always with the
// latest text. The final, complete text goes through the outbox as an edit of that same message.
//
// The interval is a promise about what the platform sees, so it is measured from the platform's answer to the
// previous edit (a request that was slow to arrive must not bring the next one closer), plus a small margin;
// finish() keeps it for the final edit too, which the outbox sends as soon as the answer is committed.
import type { Logger } from "pino";
import { type ChannelAdapter, hasLivePreview } from "../channels/types.ts";
import type { DeliveryAddress } from "../core/event.ts";
import { cutText } from "../core/text-cut.ts";
import type { Store } from "../store/types.ts";

const CURSOR = " ▍";
/** Added to minEditIntervalMs: timers fire late, never early, but clocks and platforms round. */
export const EDIT_MARGIN_MS = 50;
const STREAM_NS = "stream-message";

export class StreamPublisher {
  readonly #adapter: ChannelAdapter;
  readonly #address: DeliveryAddress;
  readonly #eventId: string;
  readonly #store: Store;
  readonly #log: Logger;
  #messageId: string | undefined;
  #latest = "";
  #shown = "";
  #lastEditAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<void> = Promise.resolve();
  #failed = false;

  constructor(adapter: ChannelAdapter, address: DeliveryAddress, eventId: string, store: Store, log: Logger) {
    this.#adapter = adapter;
    this.#address = address;
    this.#eventId = eventId;
    this.#store = store;
    this.#log = log;
  }

  /** A message from an earlier attempt at this event (crash and retry): keep editing it instead of a new one. */
  async resume(): Promise<void> {
    // Only an editing publisher records a message (#push): elsewhere there is nothing to read.
    if (hasLivePreview(this.#adapter) || !this.#adapter.capabilities.edit || !this.#adapter.edit) return;
    this.#messageId = await this.#store.kvGet(STREAM_NS, this.#eventId);
  }

  get messageId(): string | undefined {
    return this.#messageId;
  }

  update(textSoFar: string) {
    this.#latest = textSoFar;
    if (hasLivePreview(this.#adapter)) {
      this.#adapter.preview(this.#address, this.#eventId, textSoFar);
      return;
    }
    if (!this.#adapter.capabilities.edit || !this.#adapter.edit || this.#failed) return;
    if (this.#timer) return;
    const wait = this.#untilNextEdit();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#inflight = this.#inflight.then(() => this.#push());
    }, wait);
  }

  async #push() {
    const text = this.#latest;
    if (text === this.#shown || !text.trim()) return;
    const max = this.#adapter.capabilities.maxTextLength - CURSOR.length;
    const shown = cutText(text, max) + CURSOR;
    try {
      if (this.#messageId) {
        await this.#adapter.edit!(this.#address, this.#messageId, { text: shown });
      } else {
        const sent = await this.#adapter.send(this.#address, { text: shown });
        this.#messageId = sent.messageId;
        if (sent.messageId) await this.#store.kvSet(STREAM_NS, this.#eventId, sent.messageId, 86_400_000);
      }
      this.#shown = text;
    } catch (err) {
      // Streaming is a courtesy; the final reply still goes through the outbox with retries.
      this.#failed = true;
      this.#log.warn(
        { err: (err as Error).message, channel: this.#address.channel },
        "stream preview failed",
      );
    } finally {
      this.#lastEditAt = Date.now();
    }
  }

  /**
   * Stops previews and waits for one in flight, then until the next edit would be allowed (the final reply edits
   * the same message through the outbox); returns the message the final reply should replace.
   */
  async finish(): Promise<string | undefined> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#inflight;
    const wait = this.#lastEditAt > 0 ? this.#untilNextEdit() : 0;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    return this.#messageId;
  }

  /** Milliseconds until an edit may be sent: minEditIntervalMs + margin after the platform answered the last. */
  #untilNextEdit(): number {
    if (this.#lastEditAt === 0) return 0;
    const interval = this.#adapter.capabilities.minEditIntervalMs;
    return Math.max(0, this.#lastEditAt + interval + EDIT_MARGIN_MS - Date.now());
  }
}
