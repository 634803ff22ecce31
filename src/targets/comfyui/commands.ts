// The ComfyUI chat commands of the connector seed: /run, /jobs, /history, /stop, /templates, /trace.
import type { ApprovalService } from "../../approvals/service.ts";
import { iso } from "../../approvals/service.ts";
import { addressOf } from "../../core/event.ts";
import type { CommandContext, CommandRegistry, CommandResult } from "../../gateway/commands.ts";
import { ComfyError } from "./client.ts";
import { isOpen, type JobRecord } from "./job-store.ts";
import type { JobTracker } from "./jobs.ts";
import { keepPhotos, photosForRun } from "./photos.ts";
import type { ComfyPool } from "./pool.ts";
import { describeRun, seedLine, type TemplateRunner } from "./runner.ts";
import { short } from "./stop-jobs.ts";
import { describeTemplate, type InputValue, TemplateError } from "./templates.ts";

export interface ComfyCommandDeps {
  runner: TemplateRunner;
  tracker: JobTracker;
  pool: ComfyPool;
  approvals: ApprovalService;
  /** How long a run's photos are kept for it (an approval may wait that long). */
  photoKeepSec: number;
}

export const RUN_APPROVAL_KIND = "comfyui.run";
const RUN_FLAGS = new Set(["approval", "a"]);
/** A well-formed media id that names nothing: validates the photo count before any download. */
const CHECK_ONLY = `m_${"0".repeat(32)}`;

/** Template and input mistakes are the user's to fix: answer them instead of failing the event. */
export function friendly(handler: (ctx: CommandContext) => Promise<CommandResult>) {
  return async (ctx: CommandContext): Promise<CommandResult> => {
    try {
      return await handler(ctx);
    } catch (err) {
      if (err instanceof TemplateError || err instanceof ComfyError)
        return { text: `⚠️ ${err.message}`, kind: "error" };
      throw err;
    }
  };
}

export function registerComfyCommands(commands: CommandRegistry, deps: ComfyCommandDeps) {
  const { runner, tracker, pool, approvals, photoKeepSec } = deps;

  commands.register({
    name: "/run",
    usage: "/run <template> [k=v ...] [text] [--approval]",
    description: "Run a ComfyUI template; the images come back here",
    defaultClass: "run",
    handler: friendly(async ({ event, command, needsApproval, admin, services, signal }) => {
      const [id, ...words] = command.positional;
      if (!id) {
        const set = await runner.templates();
        // A template that takes a picture is run as a photo's caption: say which ones.
        const names = [...set.templates.values()].map((t) =>
          t.imageInputs.length ? `${t.id} (send with a photo)` : t.id,
        );
        return {
          text: `Usage: /run <template> [k=v ...] [text] [--approval]\nTemplates: ${names.join(", ") || "(none yet)"}`,
          kind: "error",
        };
      }
      const badFlags = Object.keys(command.flags).filter((f) => !RUN_FLAGS.has(f));
      if (badFlags.length)
        return {
          text: `Unknown option ${badFlags.map((f) => (f.length === 1 ? `-${f}` : `--${f}`)).join(", ")}. /run knows --approval (-a).`,
          kind: "error",
        };
      const template = await runner.get(id);
      const { sources, note } = await photosForRun(template, event, services);
      // Everything the sender can get wrong is checked before anything is downloaded.
      await runner.prepare(
        id,
        command.kv,
        words.join(" "),
        sources.map(() => CHECK_ONLY),
      );
      const images = await keepPhotos(services, event, sources, {
        templateId: id,
        keepSec: photoKeepSec,
        signal,
      });
      const prepared = await runner.prepare(id, command.kv, words.join(" "), images);
      const shownKeys = [
        ...new Set([
          ...Object.keys(command.kv),
          ...(words.length
            ? Object.keys(prepared.inputs).filter((k) => prepared.inputs[k] === words.join(" "))
            : []),
          // The seed actually used (a random one too), so what is approved can be run again.
          ...Object.keys(prepared.inputs).filter((k) => /(^|_)seed$/.test(k)),
        ]),
      ];
      if (needsApproval || command.flags.approval || command.flags.a) {
        const summary = `${describeRun(id, pick(prepared.inputs, shownKeys))}${images.length ? ` (with ${images.length === 1 ? "a photo" : `${images.length} photos`})` : ""}`;
        const approval = await approvals.create(RUN_APPROVAL_KIND, approvals.requesterOf(event), summary, {
          template: id,
          inputs: prepared.inputs,
        });
        const why = needsApproval
          ? "You are not on this channel's allowlist, so an admin has to approve this.\n"
          : "";
        return {
          text: `[Approval Requested]\nID: ${approval.id}\nRequest: ${summary}\nExpires: ${iso(approval.expiresAt)}\n${why}You will be told here when it is decided.`,
          ...(admin ? { buttons: approvals.buttons(approval.id) } : {}),
        };
      }
      const job = await runner.submit(
        prepared,
        { ...addressOf(event), replyContext: undefined },
        {
          source: "chat",
          requestedBy: `${event.channel}:${event.sender.id}`,
        },
      );
      if (job.unconfirmed)
        return {
          text: `⏳ ${id}: ComfyUI ${job.serverName} did not answer in time — job ${job.promptId}\nIt may already be running there, so it was not sent to another server (it could run twice). clawgate keeps asking ${job.serverName} and sends the images here if it runs, or tells you if it never got the job.`,
        };
      const seeds = seedLine(job.inputs);
      return {
        text: [
          `🎨 Queued ${id} on ${job.serverName} — job ${job.promptId}`,
          ...(seeds ? [seeds] : []),
          ...note,
          "The images will be sent here when they are ready.",
        ].join("\n"),
      };
    }),
  });

  commands.register({
    name: "/templates",
    description: "List the ComfyUI templates and their inputs",
    defaultClass: "admin",
    handler: friendly(async () => {
      const set = await runner.templates();
      const lines = [...set.templates.values()].map((t) => `• ${describeTemplate(t)}`);
      const problems = set.problems.map((p) => `⚠️ ${p}`);
      if (!lines.length) return { text: ["No templates.", ...problems].join("\n") };
      return { text: [`Templates (${lines.length}):`, ...lines, ...problems].join("\n") };
    }),
  });

  commands.register({
    name: "/jobs",
    description: "Active ComfyUI jobs and the queue of every server",
    defaultClass: "admin",
    handler: friendly(async () => {
      const open = await tracker.jobs.open();
      const lines = open.map(
        (j) =>
          `• ${short(j.promptId)} ${j.template} — ${stateLine(j)} on ${j.serverName}${j.requestedBy ? `, for ${j.requestedBy}` : ""}`,
      );
      const queues = await pool.queueSummary();
      return {
        text: [open.length ? `Active jobs (${open.length}):` : "No active jobs.", ...lines, queues].join(
          "\n",
        ),
      };
    }),
  });

  commands.register({
    name: "/history",
    usage: "/history <job id>",
    description: "Details of a ComfyUI job",
    defaultClass: "public",
    handler: friendly(async ({ command }) => {
      const id = command.positional[0];
      if (!id)
        return {
          text: "Usage: /history <job id> (the id /run answered with; the first 8 characters are enough)",
          kind: "error",
        };
      const job = await tracker.jobs.find(id);
      if (job) return { text: jobDetails(job) };
      // Not one of ours: ask the servers (nested under the prompt id).
      for (const s of pool.servers) {
        const entry = await s.client.history(id).catch(() => undefined);
        if (!entry) continue;
        const images = Object.values(entry.outputs ?? {}).reduce((n, o) => n + (o.images?.length ?? 0), 0);
        return {
          text: `Job ${id} on ${s.name}: ${entry.status?.status_str ?? "unknown"}, ${images} image(s) in the output (not started from chat).`,
        };
      }
      return { text: `No job ${id}. /jobs lists the active ones.`, kind: "error" };
    }),
  });

  commands.register({
    name: "/stop",
    usage: "/stop [job ids]",
    description: "Stop jobs (all running generations when no id is given)",
    defaultClass: "admin",
    handler: friendly(async ({ command }) => {
      const lines = await tracker.stopJobs(command.positional);
      if (!command.positional.length)
        return {
          text: `⏹ Interrupt sent to every ComfyUI server.${lines.length ? `\n${lines.join("\n")}` : ""}`,
        };
      return { text: lines.join("\n") };
    }),
  });

  commands.register({
    name: "/trace",
    usage: "/trace <job id>",
    description: "The execution trace of a job",
    defaultClass: "admin",
    handler: friendly(async ({ command }) => {
      const id = command.positional[0];
      if (!id) return { text: "Usage: /trace <job id>", kind: "error" };
      const job = await tracker.jobs.find(id);
      if (!job) return { text: `No job ${id}.`, kind: "error" };
      const t0 = job.trace[0]?.at ?? job.createdAt;
      const lines = job.trace.map(
        (e) => `+${((e.at - t0) / 1000).toFixed(1)}s ${e.event}${e.detail ? ` — ${e.detail}` : ""}`,
      );
      return {
        text: [
          jobDetails(job),
          `Inputs: ${JSON.stringify(job.inputs)}`,
          "Trace:",
          ...lines,
          ...(job.error?.traceback ? ["Traceback (last lines):", job.error.traceback] : []),
        ].join("\n"),
      };
    }),
  });
}

function stateLine(j: JobRecord): string {
  if (j.unconfirmed) return "sent, but the server has not confirmed it has the job";
  if (j.state === "running" && j.progress) return `running ${j.progress.value}/${j.progress.max}`;
  return j.state;
}

function jobDetails(j: JobRecord): string {
  const lines = [
    `Job ${j.promptId}`,
    `Template: ${j.template} on ${j.serverName} (${j.server})`,
    `State: ${stateLine(j)}${isOpen(j) ? "" : j.finishedAt ? ` at ${iso(j.finishedAt)}` : ""}`,
    `Requested: ${iso(j.createdAt)}${j.requestedBy ? ` by ${j.requestedBy}` : ""} (${j.source}${j.approvalId ? ` ${j.approvalId}` : ""}${j.scheduleId ? ` ${j.scheduleId}` : ""})`,
  ];
  if (j.images !== undefined) lines.push(`Images: ${j.images}`);
  if (j.error)
    lines.push(
      `Error${j.error.nodeId ? ` at node ${j.error.nodeId} (${j.error.nodeType ?? "?"})` : ""}: ${j.error.message}`,
    );
  return lines.join("\n");
}

function pick(inputs: Record<string, InputValue>, keys: string[]): Record<string, InputValue> {
  const out: Record<string, InputValue> = {};
  for (const k of keys) if (k in inputs) out[k] = inputs[k]!;
  return out;
}
