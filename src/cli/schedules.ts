// `clawgate schedules list|add|run|pause|resume|remove`: manages ComfyUI schedules through the running
// gateway's admin API (/admin/api/schedules).
import type { Command } from "commander";
import type { Schedule } from "../schedules/store.ts";
import { describeTiming } from "../schedules/timing.ts";
import { adminCall, fail } from "./context.ts";

function line(s: Schedule): string {
  const inputs = Object.entries(s.inputs)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(" ");
  const next = s.paused
    ? "paused"
    : s.nextRunAt
      ? `next ${new Date(s.nextRunAt).toISOString()}`
      : "no next run";
  return `${s.id}  ${s.template}${inputs ? ` ${inputs}` : ""}  ${describeTiming(s)} → ${s.target}  (${next}, ${s.runs} runs${s.lastError ? `, last error: ${s.lastError}` : ""})`;
}

export function registerSchedules(program: Command) {
  const cmd = program.command("schedules").description("manage ComfyUI schedules on the running gateway");

  cmd
    .command("list")
    .description("list schedules")
    .option("--json", "print JSON")
    .action(async (opts: { json?: boolean }, c: Command) => {
      const r = (await adminCall(c, "GET", "/admin/api/schedules")) as { schedules: Schedule[] };
      if (opts.json) return console.log(JSON.stringify(r.schedules, null, 2));
      if (!r.schedules.length) return console.log("no schedules");
      for (const s of r.schedules) console.log(line(s));
    });

  cmd
    .command("add")
    .description("add a schedule: --cron or --every, a template, inputs and the chat that gets the results")
    .requiredOption("-t, --template <id>", "template id (see /templates)")
    .requiredOption("--to <sessionKey>", "where results go, e.g. telegram:123456")
    .option("--cron <expr>", 'cron expression, e.g. "0 9 * * *"')
    .option("--tz <zone>", "time zone for --cron, e.g. Europe/Berlin")
    .option("--every <interval>", "fixed interval: 30s, 10m, 2h, 1d")
    .option("-i, --input <k=v...>", "template input (repeatable)", (v: string, acc: string[] = []) => [
      ...acc,
      v,
    ])
    .action(
      async (
        opts: { template: string; to: string; cron?: string; tz?: string; every?: string; input?: string[] },
        c: Command,
      ) => {
        if (!opts.cron === !opts.every) fail("give exactly one of --cron or --every");
        const inputs: Record<string, string> = {};
        for (const kv of opts.input ?? []) {
          const i = kv.indexOf("=");
          if (i < 1) fail(`--input ${kv}: expected key=value`);
          inputs[kv.slice(0, i)] = kv.slice(i + 1);
        }
        const r = (await adminCall(c, "POST", "/admin/api/schedules", {
          template: opts.template,
          target: opts.to,
          cron: opts.cron,
          timezone: opts.tz,
          every: opts.every,
          inputs,
        })) as { schedule: Schedule };
        console.log(`added ${line(r.schedule)}`);
      },
    );

  for (const verb of ["run", "pause", "resume"] as const) {
    cmd
      .command(`${verb} <id>`)
      .description(verb === "run" ? "run a schedule now" : `${verb} a schedule`)
      .action(async (id: string, _o: unknown, c: Command) => {
        const r = (await adminCall(c, "POST", `/admin/api/schedules/${encodeURIComponent(id)}/${verb}`)) as {
          promptId?: string;
          schedule: Schedule;
        };
        console.log(verb === "run" ? `started job ${r.promptId}` : line(r.schedule));
      });
  }

  cmd
    .command("remove <id>")
    .description("remove a schedule")
    .action(async (id: string, _o: unknown, c: Command) => {
      await adminCall(c, "DELETE", `/admin/api/schedules/${encodeURIComponent(id)}`);
      console.log(`removed ${id}`);
    });
}
