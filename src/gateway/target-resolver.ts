// Chooses the target for a conversation: the OpenAI-compatible agent its channel/account routes to (one client
// per URL and model, at most `agent.maxConcurrent` requests in flight per URL), then whatever decorators
// extensions registered (async agent mode) in order.
import { agentUrlFor, modelFor } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { InboundEvent } from "../core/event.ts";
import { Semaphore } from "../runtime/semaphore.ts";
import { OpenAiTarget } from "../targets/openai/target.ts";
import type { Target, TargetRequest, TargetResult } from "../targets/types.ts";
import type { TargetDecorator } from "./host.ts";

export class TargetResolver {
  readonly #config: Config;
  readonly #targets = new Map<string, Target>();
  readonly #decorators: TargetDecorator[] = [];
  /** Per agent URL, whatever the model: the bound protects the server, which serves every model. */
  readonly #limits = new Map<string, Semaphore>();
  readonly #bounded = new WeakMap<Target, Target>();

  constructor(config: Config) {
    this.#config = config;
  }

  add(decorator: TargetDecorator) {
    this.#decorators.push(decorator);
  }

  resolve(event: InboundEvent): Target {
    let target = this.#agent(event);
    for (const decorate of this.#decorators) target = decorate(event, target);
    // Bounded after the decorators, which recognise the agent's own client (async mode).
    let out = this.#bounded.get(target);
    if (!out) {
      const url = agentUrlFor(this.#config, event.channel, event.account);
      let limit = this.#limits.get(url);
      if (!limit) {
        limit = new Semaphore(this.#config.agent.maxConcurrent);
        this.#limits.set(url, limit);
      }
      out = bounded(target, limit);
      this.#bounded.set(target, out);
    }
    return out;
  }

  #agent(event: InboundEvent): Target {
    const url = agentUrlFor(this.#config, event.channel, event.account);
    const model = modelFor(this.#config, event.channel);
    const key = `${url}|${model ?? ""}`;
    let target = this.#targets.get(key);
    if (!target) {
      const a = this.#config.agent;
      target = new OpenAiTarget({
        url,
        model,
        apiKey: this.#config.apiKey,
        systemPrompt: a.systemPrompt,
        stream: a.stream,
        temperature: a.temperature,
        maxTokens: a.maxTokens,
        connectTimeoutMs: a.connectTimeoutMs,
        firstTokenTimeoutMs: a.firstTokenTimeoutMs,
        totalTimeoutMs: a.totalTimeoutMs,
        retries: a.retries,
      });
      this.#targets.set(key, target);
    }
    return target;
  }
}

/** The target, called by at most the semaphore's number of conversations at once; the others wait their turn. */
function bounded(target: Target, limit: Semaphore): Target {
  return {
    name: target.name,
    async run(req: TargetRequest): Promise<TargetResult> {
      const release = await limit.acquire(req.signal);
      try {
        return await target.run(req);
      } finally {
        release();
      }
    },
  };
}
