// Live updates for the web chat: server-sent events per thread. Subscribers are plain HTTP responses.
//
// A reply being written is sent as increments: each `delta` carries the text added since what this subscriber
// was last sent, and the offset where it starts (0 when the preview changed rather than grew), so an answer of n bytes costs n bytes per subscriber, not
// n²/chunk. Writes respect backpressure: while a subscriber's socket is full, previews for it are not written
// but merged (only the latest text is remembered, which the stream already holds), and the missing part goes
// out as one increment once the socket drains. Other events (accepted, reply, toast) are always written; a
// subscriber that lets more than MAX_BUFFERED_BYTES pile up anyway is disconnected — the page reconnects and
// catches up from history.
import type { ServerResponse } from "node:http";
import type { Frame } from "./frames.ts";

/** What the stream carries: the frame types the page reads too (frames.ts). */
export type LiveEvent = Frame;

/** Bytes a subscriber may leave unread in our buffers before it is cut off. */
export const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** Replies being streamed that one subscriber keeps track of; older ones are forgotten (bounded state). */
const MAX_STREAMS = 64;

interface Subscriber {
  res: ServerResponse;
  /** Per reply being written: the preview this subscriber has been sent (shared with the caller, not copied). */
  sent: Map<string, string>;
  /** Latest text of previews held back while the socket is full. */
  held: Map<string, string>;
  full: boolean;
}

export class LiveHub {
  readonly #subs = new Map<string, Set<Subscriber>>();
  #heartbeat: NodeJS.Timeout | undefined;

  subscribe(thread: string, res: ServerResponse) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": connected\n\n");
    let set = this.#subs.get(thread);
    if (!set) {
      set = new Set();
      this.#subs.set(thread, set);
    }
    const sub: Subscriber = { res, sent: new Map(), held: new Map(), full: false };
    set.add(sub);
    res.on("drain", () => this.#drained(sub));
    res.on("close", () => {
      set.delete(sub);
      if (set.size === 0 && this.#subs.get(thread) === set) this.#subs.delete(thread);
    });
    this.#heartbeat ??= setInterval(() => {
      for (const s of this.#subs.values()) for (const x of s) if (!x.full) this.#write(x, ": ping\n\n");
    }, 15_000).unref();
  }

  /** The reply to `eventId` so far: each subscriber gets what it has not been sent yet, when it can take it. */
  preview(thread: string, eventId: string, textSoFar: string) {
    const set = this.#subs.get(thread);
    if (!set) return;
    for (const sub of set) {
      if (sub.full) sub.held.set(eventId, textSoFar);
      else this.#sendDelta(sub, eventId, textSoFar);
    }
  }

  publish(thread: string, event: Exclude<LiveEvent, { type: "delta" }>) {
    const set = this.#subs.get(thread);
    if (!set) return;
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const sub of set) {
      if (event.type === "reply" && event.eventId) {
        // The reply carries the whole text: previews of it are done.
        sub.sent.delete(event.eventId);
        sub.held.delete(event.eventId);
      }
      if (sub.res.writableLength > MAX_BUFFERED_BYTES) {
        sub.res.destroy();
        continue;
      }
      this.#write(sub, frame);
    }
  }

  /** Bytes written to subscribers of `thread` that their sockets have not taken yet (the largest). */
  bufferedBytes(thread: string): number {
    let max = 0;
    for (const sub of this.#subs.get(thread) ?? []) max = Math.max(max, sub.res.writableLength);
    return max;
  }

  close() {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const set of this.#subs.values()) for (const sub of set) sub.res.end();
    this.#subs.clear();
  }

  #sendDelta(sub: Subscriber, eventId: string, textSoFar: string) {
    const before = sub.sent.get(eventId) ?? "";
    if (textSoFar === before) return;
    // A preview usually grows; one that changes what was shown (a progress line, a retry starting over)
    // replaces it from offset 0.
    const offset = textSoFar.length > before.length && textSoFar.startsWith(before) ? before.length : 0;
    const event: LiveEvent = { type: "delta", eventId, offset, text: textSoFar.slice(offset) };
    sub.sent.delete(eventId);
    sub.sent.set(eventId, textSoFar);
    if (sub.sent.size > MAX_STREAMS) sub.sent.delete(sub.sent.keys().next().value!);
    this.#write(sub, `event: delta\ndata: ${JSON.stringify(event)}\n\n`);
  }

  #write(sub: Subscriber, frame: string) {
    if (sub.res.destroyed || sub.res.writableEnded) return;
    if (!sub.res.write(frame)) sub.full = true;
  }

  #drained(sub: Subscriber) {
    sub.full = false;
    const held = [...sub.held];
    sub.held.clear();
    for (const [eventId, text] of held) {
      if (sub.full) sub.held.set(eventId, text);
      else this.#sendDelta(sub, eventId, text);
    }
  }
}
