// What runs a bridge job. The default runner sends the inputs' text to the conversation's OpenAI-compatible
// target (gateway.targetFor). Other modules register their own for the jobs they understand — the ComfyUI
// module takes `template_id` jobs:
//
//   import { bridgeRunners } from "./runner.ts";
//   bridgeRunners(gateway).register({ name: "comfyui", accepts: (job) => !!job.templateId, run: async (job, signal) => … });
//
// Runners registered later are asked first; the default runner is asked last.
import type { MediaItem } from "../channels/types.ts";
import type { DeliveryAddress, InboundEvent } from "../core/event.ts";
import { formatSessionKey } from "../core/session-key.ts";
import type { ExtensionHost } from "../gateway/host.ts";
import { TargetError } from "../targets/types.ts";

export interface BridgeJob {
  /** prompt_id in the bridge contract. */
  id: string;
  templateId?: string;
  inputs: Record<string, unknown>;
  traceId: string;
  deviceId: string;
  sessionId?: string;
  /** The conversation whose target runs the job (`target`, else `delivery_target`). */
  target?: DeliveryAddress;
  /** Where the result is delivered, when the device asked for it. */
  deliveryTarget?: DeliveryAddress;
  timeoutMs: number;
}

export interface BridgeJobResult {
  text?: string;
  files?: MediaItem[];
  /** The answer arrives later by another path (async agent callback): nothing to deliver now. */
  deferred?: boolean;
}

export interface BridgeJobRunner {
  name: string;
  /** True when this runner takes the job; checked at submit time so a job nobody can run is refused (400). */
  accepts(job: BridgeJob): boolean;
  run(job: BridgeJob, signal: AbortSignal): Promise<BridgeJobResult>;
}

export class BridgeRunnerRegistry {
  readonly #runners: BridgeJobRunner[] = [];
  readonly #fallback: BridgeJobRunner;

  constructor(fallback: BridgeJobRunner) {
    this.#fallback = fallback;
  }

  register(runner: BridgeJobRunner) {
    this.#runners.unshift(runner);
  }

  pick(job: BridgeJob): BridgeJobRunner | undefined {
    return [...this.#runners, this.#fallback].find((r) => r.accepts(job));
  }
}

const registries = new WeakMap<ExtensionHost, BridgeRunnerRegistry>();

/** The gateway's bridge runner registry (created on first use, whichever module asks first). */
export function bridgeRunners(gw: ExtensionHost): BridgeRunnerRegistry {
  let r = registries.get(gw);
  if (!r) {
    r = new BridgeRunnerRegistry(agentRunner(gw));
    registries.set(gw, r);
  }
  return r;
}

const TEXT_KEYS = ["text", "prompt", "message", "positive_prompt", "positive", "caption"];

export function inputText(inputs: Record<string, unknown>): string | undefined {
  for (const k of TEXT_KEYS) {
    const v = inputs[k];
    if (typeof v === "string" && v.trim()) return v;
  }
  return undefined;
}

/** Sends the inputs' text to the target conversation's agent, as one turn without history. */
export function agentRunner(gw: ExtensionHost): BridgeJobRunner {
  return {
    name: "agent",
    accepts: (job) => !job.templateId && inputText(job.inputs) !== undefined,
    async run(job, signal) {
      const text = inputText(job.inputs)!;
      const where = job.target ?? job.deliveryTarget;
      const event: InboundEvent = {
        id: `bridge:${job.deviceId}:${job.id}`,
        channel: where?.channel ?? "bridge",
        account: where?.account ?? "default",
        conversation: { id: where?.conversationId ?? job.deviceId, kind: "dm", thread: where?.thread },
        sender: { id: job.deviceId, name: `device ${job.deviceId}` },
        text,
        attachments: [],
        addressed: true,
        receivedAt: Date.now(),
      };
      const sessionKey = where
        ? formatSessionKey({ ...where, conversationId: where.conversationId })
        : `bridge:default:${job.deviceId}`;
      try {
        const result = await gw.services
          .targetFor(event)
          .run({ event, sessionKey, history: [], signal, onDelta: () => {} });
        return result.kind === "deferred" ? { deferred: true } : { text: result.text };
      } catch (err) {
        if (err instanceof TargetError) throw err;
        throw new TargetError((err as Error).message);
      }
    },
  };
}
