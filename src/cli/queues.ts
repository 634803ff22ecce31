// `clawgate inbox|outbox list [--state dead]` and `clawgate inbox|outbox retry <id>`: the dead-letter queues
// from the terminal. Both speak to the admin API of the running gateway, which the console uses too.
import type { Command } from "commander";
import { adminCall, fail } from "./context.ts";

const STATES = ["pending", "leased", "done", "dead"];

interface QueueRow {
  id: string | number;
  sessionKey: string;
  state: string;
  attempts: number;
  lastError: string | null;
  /** inbox */
  receivedAt?: number;
  /** outbox */
  createdAt?: number;
  idempotencyKey?: string;
}

interface QueueSpec {
  name: "inbox" | "outbox";
  description: string;
  retryDescription: string;
}

const QUEUES: QueueSpec[] = [
  {
    name: "inbox",
    description: "inspect the inbox and retry dead-lettered events",
    retryDescription: "put a dead-lettered event back in the queue",
  },
  {
    name: "outbox",
    description: "inspect the outbox and retry dead-lettered deliveries",
    retryDescription: "send a dead-lettered delivery again (same idempotency key)",
  },
];

export function registerQueues(program: Command) {
  for (const q of QUEUES) registerQueue(program, q);
}

function registerQueue(program: Command, q: QueueSpec) {
  const cmd = program.command(q.name).description(q.description);
  cmd
    .command("list")
    .description(`the newest ${q.name} items (default: dead-lettered ones)`)
    .option("--state <state>", STATES.join(", ").replace(/, (?=[^,]*$)/, " or "), "dead")
    .option("--json", "print JSON")
    .action(async (opts: { state: string; json?: boolean }, sub: Command) => {
      if (!STATES.includes(opts.state)) {
        fail(`--state must be one of ${STATES.join(", ")} (got "${opts.state}")`);
      }
      const { items } = (await adminCall(sub, "GET", `/admin/api/${q.name}?state=${opts.state}`)) as {
        items: QueueRow[];
      };
      if (opts.json) return console.log(JSON.stringify(items, null, 2));
      if (items.length === 0) return console.log(`no ${opts.state} items`);
      for (const i of items) console.log(describe(i));
    });
  cmd
    .command("retry <id>")
    .description(q.retryDescription)
    .action(async (id: string, _opts: unknown, sub: Command) => {
      await adminCall(sub, "POST", `/admin/api/${q.name}/${encodeURIComponent(id)}/retry`);
      console.log(`${id} is queued again`);
    });
}

function describe(i: QueueRow): string {
  const at = i.receivedAt ?? i.createdAt;
  const when = at ? `${i.receivedAt ? "received" : "created"} ${new Date(at).toISOString()}` : "";
  const key = i.idempotencyKey ? `  key=${i.idempotencyKey}` : "";
  const head = `${i.id}  ${i.sessionKey}  ${i.state}  attempts=${i.attempts}${key}  ${when}`;
  return i.lastError ? `${head}\n    last error: ${i.lastError}` : head;
}
