// `clawgate inbox list [--state dead]` and `clawgate inbox retry <id>`: the dead-letter queue from the terminal.
import type { Command } from "commander";
import { adminCall, fail, load } from "./context.ts";

interface InboxRow {
  id: string;
  sessionKey: string;
  state: string;
  attempts: number;
  lastError: string | null;
  receivedAt: number;
}

export function registerInbox(program: Command) {
  const inbox = program.command("inbox").description("inspect the inbox and retry dead-lettered events");
  inbox
    .command("list")
    .description("the newest inbox items (default: dead-lettered ones)")
    .option("--state <state>", "pending, leased, done or dead", "dead")
    .option("--json", "print JSON")
    .action(async (opts: { state: string; json?: boolean }, cmd: Command) => {
      if (!["pending", "leased", "done", "dead"].includes(opts.state)) {
        fail(`--state must be one of pending, leased, done, dead (got "${opts.state}")`);
      }
      const { items } = (await adminCall(load(cmd), "GET", `/admin/api/inbox?state=${opts.state}`)) as {
        items: InboxRow[];
      };
      if (opts.json) return console.log(JSON.stringify(items, null, 2));
      if (items.length === 0) return console.log(`no ${opts.state} items`);
      for (const i of items) {
        const when = new Date(i.receivedAt).toISOString();
        console.log(`${i.id}  ${i.sessionKey}  ${i.state}  attempts=${i.attempts}  received ${when}`);
        if (i.lastError) console.log(`    last error: ${i.lastError}`);
      }
    });
  inbox
    .command("retry <id>")
    .description("put a dead-lettered event back in the queue")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await adminCall(load(cmd), "POST", `/admin/api/inbox/${encodeURIComponent(id)}/retry`);
      console.log(`${id} is queued again`);
    });
}
