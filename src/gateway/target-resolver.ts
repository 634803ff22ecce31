// Chooses the target for a conversation: the OpenAI-compatible agent its channel/account routes to (one client
// per URL and model), then whatever decorators extensions registered (async agent mode) in order.
import { agentUrlFor, modelFor } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { InboundEvent } from "../core/event.ts";
import { OpenAiTarget } from "../targets/openai/target.ts";
import type { Target } from "../targets/types.ts";
import type { TargetDecorator } from "./host.ts";

export class TargetResolver {
  readonly #config: Config;
  readonly #targets = new Map<string, Target>();
  readonly #decorators: TargetDecorator[] = [];

  constructor(config: Config) {
    this.#config = config;
  }

  add(decorator: TargetDecorator) {
    this.#decorators.push(decorator);
  }

  resolve(event: InboundEvent): Target {
    let target = this.#agent(event);
    for (const decorate of this.#decorators) target = decorate(event, target);
    return target;
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
