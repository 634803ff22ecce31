// Default gate for senders who are not on a channel's allowlist, following the channel's dmPolicy. DM pairing
// (dmPolicy "pairing") replaces this with a gate that issues pairing codes.
import type { InboundEvent } from "../core/event.ts";
import type { GatewayServices, TrustGate } from "./services.ts";

/** A stranger is told once per hour; further messages are refused quietly so nobody can make us spam a chat. */
const REFUSAL_NOTICE_MS = 3_600_000;

/** The gate the pipeline asks: the default allowlist gate until an extension sets another (DM pairing). */
export class TrustGateSlot implements TrustGate {
  #gate: TrustGate = allowlistGate;

  set(gate: TrustGate) {
    this.#gate = gate;
  }

  check(...args: Parameters<TrustGate["check"]>) {
    return this.#gate.check(...args);
  }

  async isAllowlisted(event: InboundEvent): Promise<boolean> {
    return (await this.#gate.isAllowlisted?.(event)) ?? false;
  }
}

export const allowlistGate: TrustGate = {
  async check(event, adapter, services: GatewayServices) {
    const policy = services.config.channels[event.channel]?.dmPolicy ?? "allowlist";
    if (policy === "open") return { allow: true };
    if (event.conversation.kind !== "dm" || policy === "disabled") return { allow: false };
    const first = await services.store.kvSetIfAbsent(
      "refusal-notice",
      `${event.channel}:${event.account}:${event.sender.id}`,
      "1",
      REFUSAL_NOTICE_MS,
    );
    if (!first) return { allow: false };
    return {
      allow: false,
      reply: {
        text: `This assistant only answers people on its allowlist. Your ${adapter.channel} id is ${event.sender.id}: ask the operator to add it.`,
        kind: "error",
      },
    };
  },
};
