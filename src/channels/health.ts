// Small mutable health record every adapter keeps; `clawgate channels status` reads it.
import type { ChannelHealth } from "./types.ts";

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
  status(s: ChannelHealth["status"]) {
    this.#h.status = s;
  }
  snapshot(): ChannelHealth {
    return { ...this.#h };
  }
}
