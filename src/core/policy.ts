// Command authorization with the OpenClaw connector's semantics. Pure: the caller supplies who the sender is
// and whether the channel trusts them; this decides what may happen.

export type CommandClass = "public" | "run" | "admin";

export interface CommandPolicyConfig {
  /** OPENCLAW_CONNECTOR_ADMIN_USERS */
  adminUsers: string[];
  /** OPENCLAW_COMMAND_OVERRIDES, keys normalized to "/name". */
  overrides: Record<string, CommandClass>;
  /** OPENCLAW_COMMAND_ALLOW_FROM_{PUBLIC,RUN,ADMIN}: a non-empty list is strict. */
  allowFrom: Record<CommandClass, string[]>;
}

export const DEFAULT_COMMAND_CLASSES: Record<string, CommandClass> = {
  "/help": "public",
  "/start": "public",
  "/status": "public",
  "/history": "public",
  "/whoami": "public",
  "/new": "public",
  "/transcript": "public",
  /** Saves a fact in the web chat workspace of the conversation (src/workspaces/extension.ts). */
  "/remember": "public",
  "/run": "run",
};

export interface Principal {
  channel: string;
  senderId: string;
  /** On the channel's allowlist (or otherwise trusted, e.g. the local web chat). */
  trusted: boolean;
  /** A sender-chosen id (see Sender.selfAsserted): only channel-qualified list entries match it. */
  selfAsserted?: boolean;
}

export type PolicyDecision =
  | { kind: "allow"; commandClass: CommandClass }
  | { kind: "approval"; commandClass: "run"; message: string }
  | { kind: "deny"; commandClass: CommandClass; reason: string; message: string };

/** Normalizes override keys the way the connector does: lower-case, leading "/" added. */
export function normalizeOverrides(raw: Record<string, string>): Record<string, CommandClass> {
  const out: Record<string, CommandClass> = {};
  for (const [key, value] of Object.entries(raw)) {
    let k = key.trim().toLowerCase();
    if (!k) continue;
    if (!k.startsWith("/")) k = `/${k}`;
    const v = String(value).trim().toLowerCase();
    if (v === "public" || v === "run" || v === "admin") out[k] = v;
  }
  return out;
}

export function classify(command: string, config: CommandPolicyConfig): CommandClass {
  return config.overrides[command] ?? DEFAULT_COMMAND_CLASSES[command] ?? "admin";
}

/** A list entry matches the bare platform id or the channel-qualified form `telegram:123`. */
export function listIncludes(
  list: readonly string[],
  principal: Pick<Principal, "channel" | "senderId" | "selfAsserted">,
) {
  if (list.includes(`${principal.channel}:${principal.senderId}`)) return true;
  return !principal.selfAsserted && list.includes(principal.senderId);
}

export function isAdmin(principal: Principal, config: CommandPolicyConfig): boolean {
  const strict = config.allowFrom.admin;
  if (strict.length > 0) return listIncludes(strict, principal);
  return listIncludes(config.adminUsers, principal);
}

export function evaluateCommand(
  command: string,
  principal: Principal,
  config: CommandPolicyConfig,
): PolicyDecision {
  const commandClass = classify(command, config);
  const strict = config.allowFrom[commandClass];
  if (strict.length > 0 && !listIncludes(strict, principal)) {
    return {
      kind: "deny",
      commandClass,
      reason: "allow_from",
      message: `Access denied: ${command} is restricted to the ${commandClass} allow-from list, and your id ${principal.senderId} is not on it.`,
    };
  }
  if (commandClass === "admin") {
    if (strict.length > 0 || listIncludes(config.adminUsers, principal)) {
      return { kind: "allow", commandClass };
    }
    return {
      kind: "deny",
      commandClass,
      reason: "not_admin",
      message: `Access denied: ${command} is an admin command. Ask the operator to add your id ${principal.senderId} to OPENCLAW_CONNECTOR_ADMIN_USERS.`,
    };
  }
  if (commandClass === "run") {
    const elevated = strict.length > 0 || isAdmin(principal, config);
    if (!principal.trusted && !elevated) {
      return {
        kind: "approval",
        commandClass,
        message: "You are not on this channel's allowlist, so this request needs an admin's approval.",
      };
    }
    return { kind: "allow", commandClass };
  }
  return { kind: "allow", commandClass };
}
