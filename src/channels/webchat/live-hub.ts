// Live updates for the web chat per thread, to SSE responses and WebSockets (ws.ts) alike.
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

/**
 * Where a subscriber's events go: an SSE response, or a WebSocket (ws.ts). `write` returns false when the
 * transport is full; the hub then holds previews back until the owner calls the handle's `drained`.
 */
export interface LiveSink {
  write(event: LiveEvent): boolean;
  heartbeat(): void;
  /** Bytes written that the socket has not taken yet. */
  readonly buffered: number;
  readonly closed: boolean;
  /** Ends the stream: its device was revoked, or the gateway is stopping. */
  end(why: "revoked" | "stopping"): void;
  /** Cuts a subscriber that will not read. */
  destroy(): void;
}

/** Whose session a subscription is, so revoking a device ends it (absent: the operator). */
export interface LiveOwner {
  deviceId: string;
  tokenId: string;
}

interface Subscriber {
  sink: LiveSink;
  owner?: LiveOwner;
  /** Per reply being written: the preview this subscriber has been sent (shared with the caller, not copied). */
  sent: Map<string, string>;
  /** Latest text of previews held back while the socket is full. */
  held: Map<string, string>;
  full: boolean;
}

/** An SSE response as a sink. */
function sseSink(res: ServerResponse): LiveSink {
  const put = (text: string) => (res.destroyed || res.writableEnded ? true : res.write(text));
  return {
    write: (event) => put(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`),
    heartbeat: () => put(": ping\n\n"),
    get buffered() {
      return res.writableLength;
    },
    get closed() {
      return res.destroyed || res.writableEnded;
    },
    end: () => res.end(),
    destroy: () => res.destroy(),
  };
}

export class LiveHub {
  readonly #subs = new Map<string, Set<Subscriber>>();
  #heartbeat: NodeJS.Timeout | undefined;

  subscribe(thread: string, res: ServerResponse, owner?: LiveOwner) {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": connected\n\n");
    const handle = this.attach(thread, sseSink(res), owner);
    res.on("drain", handle.drained);
    res.on("close", handle.detach);
  }

  /** Adds a subscriber of `thread`; its owner calls `drained` when the transport can take more, `detach` at close. */
  attach(thread: string, sink: LiveSink, owner?: LiveOwner): { drained: () => void; detach: () => void } {
    let set = this.#subs.get(thread);
    if (!set) {
      set = new Set();
      this.#subs.set(thread, set);
    }
    const sub: Subscriber = { sink, owner, sent: new Map(), held: new Map(), full: false };
    set.add(sub);
    this.#heartbeat ??= setInterval(() => {
      for (const s of this.#subs.values())
        for (const x of s) if (!x.full && !x.sink.closed) x.sink.heartbeat();
    }, 15_000).unref();
    return {
      drained: () => this.#drained(sub),
      detach: () => {
        set.delete(sub);
        if (set.size === 0 && this.#subs.get(thread) === set) this.#subs.delete(thread);
      },
    };
  }

  /** The device tokens holding streams open, each once. */
  owners(): LiveOwner[] {
    const seen = new Map<string, LiveOwner>();
    for (const set of this.#subs.values())
      for (const sub of set) if (sub.owner) seen.set(sub.owner.tokenId, sub.owner);
    return [...seen.values()];
  }

  /** Ends every stream a revoked device (or one revoked token of it) holds open. */
  endOwner(deviceId: string, tokenId?: string) {
    for (const set of this.#subs.values())
      for (const sub of set)
        if (sub.owner?.deviceId === deviceId && (!tokenId || sub.owner.tokenId === tokenId))
          sub.sink.end("revoked");
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
    for (const sub of set) {
      if (event.type === "reply" && event.eventId) {
        // The reply carries the whole text: previews of it are done.
        sub.sent.delete(event.eventId);
        sub.held.delete(event.eventId);
      }
      if (sub.sink.buffered > MAX_BUFFERED_BYTES) {
        sub.sink.destroy();
        continue;
      }
      this.#write(sub, event);
    }
  }

  /** Bytes written to subscribers of `thread` that their sockets have not taken yet (the largest). */
  bufferedBytes(thread: string): number {
    let max = 0;
    for (const sub of this.#subs.get(thread) ?? []) max = Math.max(max, sub.sink.buffered);
    return max;
  }

  close() {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const set of this.#subs.values()) for (const sub of set) sub.sink.end("stopping");
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
    this.#write(sub, event);
  }

  #write(sub: Subscriber, event: LiveEvent) {
    if (sub.sink.closed) return;
    if (!sub.sink.write(event)) sub.full = true;
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
