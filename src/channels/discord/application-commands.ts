// The gateway's chat commands as Discord slash commands, like Telegram's command menu (setMyCommands). Each takes
// one optional string option carrying the rest of the command line, so "/run steps=20 a cat" is typed as
// /run with args "steps=20 a cat". Published with a bulk overwrite (PUT), so a restart sends the same list again
// and nothing is created twice; commands the gateway no longer has disappear.
import type { Logger } from "pino";
import { cutText } from "../../core/text-cut.ts";
import type { DiscordClient } from "./client.ts";
import { ARGS_OPTION } from "./normalize.ts";

/** CHAT_INPUT command names: lower case letters, digits, - _ ' (and Devanagari/Thai), 1-32 long. */
const NAME_RE = /^[-_'\p{Ll}\p{Lo}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;
const MAX_DESCRIPTION = 100;
/** Discord takes up to 100 global CHAT_INPUT commands per application. */
const MAX_COMMANDS = 100;
/** A string option's longest value; the typed-command limit (4096) stays above name + args. */
const MAX_ARGS = 4000;

export interface SlashCommand {
  name: string;
  type: 1;
  description: string;
  options: {
    type: 3;
    name: string;
    description: string;
    required: false;
    max_length: number;
  }[];
}

/** Builds the command list; names Discord would refuse are left out and returned in `skipped`. */
export function slashCommandsOf(list: { name: string; description: string }[]): {
  commands: SlashCommand[];
  skipped: string[];
} {
  const commands: SlashCommand[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const c of list) {
    const name = c.name.replace(/^\//, "");
    if (!NAME_RE.test(name) || seen.has(name) || commands.length >= MAX_COMMANDS) {
      skipped.push(c.name);
      continue;
    }
    seen.add(name);
    const description = c.description.trim() || `Run /${name}`;
    commands.push({
      name,
      type: 1,
      description: cutText(description, MAX_DESCRIPTION, "…"),
      options: [
        {
          type: 3,
          name: ARGS_OPTION,
          description: `What follows /${name}, as you would type it`,
          required: false,
          max_length: MAX_ARGS,
        },
      ],
    });
  }
  return { commands, skipped };
}

/**
 * Publishes the commands: globally, or in `guilds` only (then the global set is emptied, so a bot switched from
 * global to guild commands does not show each command twice). Failures are logged, never fatal: typed commands
 * keep working.
 */
export async function publishSlashCommands(o: {
  client: DiscordClient;
  applicationId: string;
  guilds: string[];
  list: { name: string; description: string }[];
  log: Logger;
  account: string;
}): Promise<void> {
  const { commands, skipped } = slashCommandsOf(o.list);
  if (skipped.length) {
    o.log.warn(
      { account: o.account, skipped },
      "discord: some commands cannot be slash commands (name not allowed by Discord); they can still be typed",
    );
  }
  try {
    if (o.guilds.length === 0) {
      await o.client.putCommands(o.applicationId, undefined, commands);
    } else {
      for (const guild of o.guilds) await o.client.putCommands(o.applicationId, guild, commands);
      await o.client.putCommands(o.applicationId, undefined, []);
    }
    o.log.info(
      { account: o.account, commands: commands.length, guilds: o.guilds.length || "global" },
      "discord: slash commands published",
    );
  } catch (err) {
    o.log.warn(
      { account: o.account, err: (err as Error).message },
      "discord: publishing slash commands failed; typed commands still work",
    );
  }
}
