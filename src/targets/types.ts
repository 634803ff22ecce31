// A target is where a conversation goes: an OpenAI-compatible agent, ComfyUI, …
import type { InboundEvent } from "../core/event.ts";

/** OpenAI chat completions content parts, as the agent receives them. */
export type ChatPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | { type: "input_audio"; input_audio: { data: string; format: "wav" | "mp3" } };

export interface ChatTurn {
  role: "system" | "user" | "assistant";
  /** Text, or parts when the turn carried pictures, audio or file text. */
  content: string | ChatPart[];
}

export interface TargetRequest {
  event: InboundEvent;
  sessionKey: string;
  /** Earlier turns of this session's current generation, oldest first (the new message is not included). */
  history: ChatTurn[];
  /** The new message as content parts when it carries more than its text; otherwise event.text is sent. */
  content?: ChatPart[];
  signal: AbortSignal;
  /** Called with the whole reply text so far, each time it grows. */
  onDelta(textSoFar: string): void;
}

export type TargetResult =
  /** `imagesRefused`: the agent refused image parts (a text-only model), so the turn was sent without them. */
  | { kind: "reply"; text: string; imagesRefused?: boolean }
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
