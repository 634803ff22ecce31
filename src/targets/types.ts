// A target is where a conversation goes: an OpenAI-compatible agent, ComfyUI, …
import type { InboundEvent } from "../core/event.ts";

export interface ChatTurn {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface TargetRequest {
  event: InboundEvent;
  sessionKey: string;
  /** Earlier turns of this session's current generation, oldest first (the new message is not included). */
  history: ChatTurn[];
  signal: AbortSignal;
  /** Called with the whole reply text so far, each time it grows. */
  onDelta(textSoFar: string): void;
}

export type TargetResult =
  | { kind: "reply"; text: string }
  /** The answer will arrive later by another path (async agent callback, ComfyUI job). */
  | { kind: "deferred"; notice?: string };

export interface Target {
  readonly name: string;
  run(req: TargetRequest): Promise<TargetResult>;
}

/** An error whose message is written for the chat user and the operator, saying what to fix. */
export class TargetError extends Error {
  readonly retryable: boolean;
  readonly status?: number;
  constructor(message: string, opts: { retryable?: boolean; status?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.name = "TargetError";
    this.retryable = opts.retryable ?? false;
    this.status = opts.status;
  }
}
