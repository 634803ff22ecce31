// `clawgate test`: one dispatch to the configured agent, streamed to the terminal, like the seed's `ocg test`.
import type { Command } from "commander";
import { agentUrlFor, modelFor } from "../config/load.ts";
import { OpenAiTarget } from "../targets/openai/target.ts";
import { TargetError } from "../targets/types.ts";
import { fail, loadWithPlugins } from "./context.ts";

export function registerSmokeTest(program: Command) {
  program
    .command("test")
    .description("send one message to the configured agent and print the streamed reply")
    .option("-m, --message <text>", "what to send", "Reply with the single word: pong")
    .option("--channel <name>", "use this channel's agent settings", "webchat")
    .action(async (opts: { message: string; channel: string }, cmd: Command) => {
      const { config } = await loadWithPlugins(cmd);
      const url = agentUrlFor(config, opts.channel);
      const model = modelFor(config, opts.channel);
      const a = config.agent;
      const target = new OpenAiTarget({ ...a, url, model, apiKey: config.apiKey, retries: 0 });
      process.stdout.write(`→ ${model ?? "(default model)"} @ ${url}\n`);
      let printed = 0;
      const started = performance.now();
      try {
        const result = await target.run({
          event: {
            id: "cli:test",
            channel: opts.channel,
            account: "default",
            conversation: { id: "cli", kind: "dm" },
            sender: { id: "cli" },
            text: opts.message,
            attachments: [],
            addressed: true,
            receivedAt: Date.now(),
          },
          sessionKey: "cli:test",
          history: [],
          signal: AbortSignal.timeout(a.totalTimeoutMs),
          onDelta: (text) => {
            process.stdout.write(text.slice(printed));
            printed = text.length;
          },
        });
        const ms = Math.round(performance.now() - started);
        if (result.kind === "reply") process.stdout.write(`\n✓ ${result.text.length} chars in ${ms} ms\n`);
      } catch (err) {
        if (err instanceof TargetError) fail(err.message);
        throw err;
      }
    });
}
