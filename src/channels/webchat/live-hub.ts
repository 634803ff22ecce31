// Live updates for the web chat: server-sent events per thread. Subscribers are plain HTTP responses.
import type { ServerResponse } from "node:http";

export type LiveEvent =
  | { type: "delta"; eventId: string; text: string }
  | {
      type: "reply";
      /** The delivery's idempotency key: the same if a delivery is repeated after a crash. */
      id?: string;
      /** The message this answers, when it answers one (absent for notifications such as job results). */
      eventId?: string;
      text: string;
      kind?: string;
      buttons?: unknown;
      media?: unknown;
    }
  | { type: "accepted"; eventId: string; text: string }
  /** A short acknowledgement of a button press ("noted", "This button is no longer valid."); not stored. */
  | { type: "toast"; text: string };

export class LiveHub {
  readonly #subs = new Map<string, Set<ServerResponse>>();
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
    set.add(res);
    res.on("close", () => {
      set.delete(res);
      if (set.size === 0) this.#subs.delete(thread);
    });
    this.#heartbeat ??= setInterval(() => {
      for (const s of this.#subs.values()) for (const r of s) r.write(": ping\n\n");
    }, 15_000).unref();
  }

  publish(thread: string, event: LiveEvent) {
    const set = this.#subs.get(thread);
    if (!set) return;
    const frame = `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const res of set) res.write(frame);
  }

  close() {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const set of this.#subs.values()) for (const res of set) res.end();
    this.#subs.clear();
  }
}
