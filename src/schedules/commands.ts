// /schedules and /schedule run|pause|resume|add|remove <id> from chat (admin commands by default).
import { iso } from "../approvals/service.ts";
import { sessionKeyOf } from "../core/event.ts";
import type { CommandRegistry } from "../gateway/commands.ts";
import type { Scheduler } from "./scheduler.ts";
import type { Schedule } from "./store.ts";
import { describeTiming, parseInterval } from "./timing.ts";

export function describeSchedule(s: Schedule): string {
  const inputs = Object.entries(s.inputs).map(([k, v]) => `${k}=${/\s/.test(v) ? JSON.stringify(v) : v}`);
  return [
    `• ${s.id} — ${s.template}${inputs.length ? ` ${inputs.join(" ")}` : ""}, ${describeTiming(s)} → ${s.target}`,
    `  ${s.paused ? "paused" : `next run ${s.nextRunAt ? iso(s.nextRunAt) : "never"}`}; runs ${s.runs}` +
      `${s.lastRunAt ? `, last ${iso(s.lastRunAt)}` : ""}${s.lastPromptId ? ` (job ${s.lastPromptId})` : ""}` +
      `${s.lastError ? `; last error: ${s.lastError}` : ""}`,
  ].join("\n");
}

const USAGE =
  'Usage: /schedule run|pause|resume|remove <id>, or /schedule add "<cron>"|every=<10m> <template> [k=v ...] (results come to this chat)';

export function registerScheduleCommands(commands: CommandRegistry, scheduler: Scheduler) {
  commands.register({
    name: "/schedules",
    description: "List schedules",
    defaultClass: "admin",
    handler: async () => {
      const all = await scheduler.store.list();
      if (!all.length)
        return { text: "No schedules. Add one with /schedule add or `clawgate schedules add`." };
      return { text: `Schedules (${all.length}):\n${all.map(describeSchedule).join("\n")}` };
    },
  });

  commands.register({
    name: "/schedule",
    usage: "/schedule run|pause|resume|remove <id>",
    description: "Run, pause, resume, add or remove a schedule",
    defaultClass: "admin",
    handler: async ({ command, event }) => {
      const [verb, id, ...rest] = command.positional;
      try {
        if (verb === "add") {
          const every = command.kv.every;
          const everySec = every ? parseInterval(every) : undefined;
          if (every && !everySec)
            return { text: `every=${every} is not an interval like 30s, 10m, 2h or 1d`, kind: "error" };
          const cron = everySec ? undefined : id;
          const template = everySec ? id : rest[0];
          if (!template) return { text: USAGE, kind: "error" };
          const { every: _e, tz, ...inputs } = command.kv;
          const s = await scheduler.add({
            template,
            inputs,
            target: sessionKeyOf(event),
            cron,
            everySec,
            timezone: tz,
            createdBy: `${event.channel}:${event.sender.id}`,
          });
          return { text: `Added schedule:\n${describeSchedule(s)}` };
        }
        if (!id || !["run", "pause", "resume", "remove"].includes(verb ?? ""))
          return { text: USAGE, kind: "error" };
        if (verb === "remove") {
          return (await scheduler.store.remove(id))
            ? { text: `Removed schedule ${id}.` }
            : { text: `No schedule ${id}. /schedules lists them.`, kind: "error" };
        }
        if (verb === "run") {
          const r = await scheduler.runNow(id);
          if (!r) return { text: `No schedule ${id}. /schedules lists them.`, kind: "error" };
          return {
            text: `▶️ Schedule ${id} started ${r.schedule.template} — job ${r.promptId} (results go to ${r.schedule.target})`,
          };
        }
        const s = await scheduler.setPaused(id, verb === "pause");
        if (!s) return { text: `No schedule ${id}. /schedules lists them.`, kind: "error" };
        return {
          text: `${verb === "pause" ? "⏸ Paused" : "▶️ Resumed"} schedule ${id}.${s.paused ? "" : ` Next run ${s.nextRunAt ? iso(s.nextRunAt) : "never"}.`}`,
        };
      } catch (err) {
        return { text: `⚠️ ${(err as Error).message}`, kind: "error" };
      }
    },
  });
}
