// The one rule for whether a sender may run a command: the pipeline applies it before a handler runs, and
// ingest asks it before letting a /new cancel the reply in progress.
import type { Config } from "../config/schema.ts";
import type { InboundEvent } from "../core/event.ts";
import { evaluateCommand, type PolicyDecision } from "../core/policy.ts";

/** The command policy's decision for this sender (`trusted`: the channel or the paired allowlist trusts them). */
export function decideCommand(
  canonical: string,
  event: InboundEvent,
  trusted: boolean,
  policy: Config["policy"],
): PolicyDecision {
  return evaluateCommand(
    canonical,
    {
      channel: event.channel,
      senderId: event.sender.id,
      trusted,
      selfAsserted: event.sender.selfAsserted,
    },
    { adminUsers: policy.adminUsers, overrides: policy.overrides, allowFrom: policy.allowFrom },
  );
}

/** Whether the pipeline would run this command at once: not another bot, addressed to us, allowed by policy. */
export function mayRunCommand(
  canonical: string,
  event: InboundEvent,
  trusted: boolean,
  policy: Config["policy"],
): boolean {
  if (event.sender.isBot || !event.addressed) return false;
  return decideCommand(canonical, event, trusted, policy).kind === "allow";
}

/** A /new (or /reset) as ingest sees it, before the pipeline lexes it: a channel's parsed command or the text. */
export function isResetCommand(event: InboundEvent): boolean {
  const name = event.command?.name ?? (/^\/(new|reset)\b/i.test(event.text.trim()) ? "/new" : undefined);
  return name === "/new" || name === "/reset";
}
