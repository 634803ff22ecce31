// One WebSocket per ComfyUI server (/ws?clientId=…): ComfyUI sends a prompt's execution events to the socket
// of the client id that submitted it. Reconnects with backoff; binary frames (previews) are ignored.
import type { Logger } from "pino";

export interface ComfyEvent {
  type: string;
  data: Record<string, unknown> & { prompt_id?: string };
}

export class ComfyEventStream {
  readonly #url: string;
  readonly #log: Logger;
  readonly #onEvent: (e: ComfyEvent) => void;
  #ws: WebSocket | undefined;
  #closed = false;
  #attempt = 0;
  #timer: NodeJS.Timeout | undefined;
  connected = false;

  constructor(url: string, log: Logger, onEvent: (e: ComfyEvent) => void) {
    this.#url = url;
    this.#log = log;
    this.#onEvent = onEvent;
  }

  /** Connects if not connected or connecting already. */
  ensure() {
    if (this.#closed || this.#ws || this.#timer) return;
    const ws = new WebSocket(this.#url);
    ws.binaryType = "arraybuffer";
    this.#ws = ws;
    ws.addEventListener("open", () => {
      this.connected = true;
      this.#attempt = 0;
      this.#log.debug({ ws: this.#url }, "ComfyUI event stream connected");
    });
    ws.addEventListener("message", (m) => {
      if (typeof m.data !== "string") return;
      try {
        const e = JSON.parse(m.data) as ComfyEvent;
        if (e && typeof e.type === "string") this.#onEvent({ type: e.type, data: e.data ?? {} });
      } catch {
        // A malformed frame is ComfyUI's bug, not a reason to drop the stream.
      }
    });
    ws.addEventListener("close", () => {
      this.connected = false;
      this.#ws = undefined;
      if (this.#closed) return;
      const delay = Math.min(10_000, 250 * 2 ** this.#attempt++);
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.ensure();
      }, delay);
      this.#timer.unref();
    });
    ws.addEventListener("error", () => {
      // "close" follows; the pool's health check reports the server's state.
    });
  }

  close() {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#ws?.close();
  }
}
