// Small mutable health record every adapter keeps; `clawgate channels status` reads it.
import type { ChannelHealth } from "../types.ts";

export class HealthTracker {
  #h: ChannelHealth = { status: "starting" };
  inbound() {
    this.#h.lastInboundAt = Date.now();
  }
  outbound() {
    this.#h.lastOutboundAt = Date.now();
  }
  error(message: string) {
    this.#h.lastError = { at: Date.now(), message };
  }
  /** Runs one delivery: success is the last outbound time, a failure the last error (and is rethrown). */
  async track<T>(send: () => Promise<T>): Promise<T> {
    try {
      const out = await send();
      this.outbound();
      return out;
    } catch (err) {
      this.error((err as Error).message);
      throw err;
    }
  }
  status(s: ChannelHealth["status"]) {
    this.#h.status = s;
  }
  snapshot(): ChannelHealth {
    return { ...this.#h };
  }
}
