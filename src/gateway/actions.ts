// Button presses: the button's value is "<prefix>:<rest>", and the module that made the button registers the
// prefix (approvals use "apr"). Unknown prefixes are answered, never ignored silently.
import type { OutboundMessage } from "../channels/types.ts";
import type { InboundEvent } from "../core/event.ts";
import type { GatewayServices } from "./services.ts";

export interface ActionContext {
  event: InboundEvent;
  sessionKey: string;
  value: string;
  trusted: boolean;
  admin: boolean;
  services: GatewayServices;
}

export type ActionHandler = (ctx: ActionContext) => Promise<{ toast?: string; reply?: OutboundMessage }>;

export class ActionRegistry {
  readonly #handlers = new Map<string, ActionHandler>();
  register(prefix: string, handler: ActionHandler) {
    this.#handlers.set(prefix, handler);
  }
  resolve(value: string): ActionHandler | undefined {
    const i = value.indexOf(":");
    return this.#handlers.get(i === -1 ? value : value.slice(0, i));
  }
}
