// The registry of chat commands. Built-ins register here, and so do targets (ComfyUI's /run, /jobs …) and the
// security module (/pair …): a map instead of an if/else chain, so a new command is one file.
import type { OutboundMessage } from "../channels/types.ts";
import type { ParsedCommand } from "../core/command-lexer.ts";
import type { InboundEvent } from "../core/event.ts";
import type { CommandClass } from "../core/policy.ts";
import type { GatewayServices } from "./services.ts";

export interface CommandContext {
  event: InboundEvent;
  sessionKey: string;
  command: ParsedCommand;
  trusted: boolean;
  admin: boolean;
  /** How the policy classed this command for this sender. */
  commandClass: CommandClass;
  /** Set when the policy turned an untrusted /run into an approval request. */
  needsApproval: boolean;
  services: GatewayServices;
  signal: AbortSignal;
}

export type CommandResult = OutboundMessage | OutboundMessage[] | undefined;

export interface CommandSpec {
  /** "/name", lower-case. */
  name: string;
  aliases?: string[];
  description: string;
  usage?: string;
  /** Informational: the class this command gets when no override applies (see core/policy.ts). */
  defaultClass?: CommandClass;
  handler(ctx: CommandContext): Promise<CommandResult> | CommandResult;
}

export class CommandRegistry {
  readonly #specs = new Map<string, CommandSpec>();
  readonly #aliases = new Map<string, string>();

  register(spec: CommandSpec) {
    if (this.#specs.has(spec.name)) throw new Error(`command ${spec.name} is registered twice`);
    this.#specs.set(spec.name, spec);
    for (const a of spec.aliases ?? []) this.#aliases.set(a, spec.name);
  }

  /** Replaces a command (a module that knows better, e.g. ComfyUI's /status). */
  override(spec: CommandSpec) {
    this.#specs.set(spec.name, spec);
  }

  resolve(name: string): CommandSpec | undefined {
    return this.#specs.get(name) ?? this.#specs.get(this.#aliases.get(name) ?? "");
  }

  /** The canonical name an alias stands for, for policy lookups. */
  canonical(name: string): string {
    return this.#specs.has(name) ? name : (this.#aliases.get(name) ?? name);
  }

  list(): CommandSpec[] {
    return [...this.#specs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
