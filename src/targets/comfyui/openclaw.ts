// The `comfyui-openclaw` target: for users who already run the ComfyUI-OpenClaw extension, the chat commands
// call its endpoints (templates, triggers, approvals, schedules, traces live there) with
// X-OpenClaw-Admin-Token. Jobs it starts are still followed through ComfyUI's own /ws and /history, so the
// images come back to the chat the same way.
import { addressOf, type DeliveryAddress, type InboundEvent } from "../../core/event.ts";
import type { CommandRegistry } from "../../gateway/commands.ts";
import type { GatewayServices } from "../../gateway/services.ts";
import { ComfyError } from "./client.ts";
import { friendly } from "./commands.ts";
import type { ResolvedComfyui } from "./config.ts";
import type { JobTracker } from "./jobs.ts";
import { first, itemsOf, OpenClawClient } from "./openclaw-client.ts";
import { approvedText, promptKeyFor } from "./openclaw-rules.ts";
import type { ComfyPool } from "./pool.ts";

/** Who asked for an extension approval (the extension does not know chats), kept to deliver its result. */
const REQUESTS = "openclaw-approval";
/** clawgate's own record of a decision, with the reject reason the extension does not keep. */
const DECISIONS = "openclaw-approval-decision";
const KEEP_MS = 7 * 86_400_000;

interface ApprovalRequest {
  deliverTo: DeliveryAddress;
  requestedBy: string;
  template: string;
  inputs: Record<string, string>;
}

export function registerOpenClawCommands(
  commands: CommandRegistry,
  deps: { cfg: ResolvedComfyui; pool: ComfyPool; tracker: JobTracker; services: GatewayServices },
) {
  const { cfg, pool, tracker, services } = deps;
  const store = services.store;
  const here = (event: InboundEvent): DeliveryAddress => ({ ...addressOf(event), replyContext: undefined });
  /** The allowed inputs the extension lists for a template (empty when it cannot say). */
  const allowedInputs = async (c: OpenClawClient, id: string): Promise<unknown> => {
    const { json } = await c.call("GET", "/openclaw/templates").catch(() => ({ json: {} }));
    return itemsOf(json, "templates").find((t) => first(t, "id", "template_id", "name") === id)
      ?.allowed_inputs;
  };
  const client = () => new OpenClawClient(pool.ranked()[0]!, cfg.adminToken, cfg.requestTimeoutMs);
  const readRequest = async (approvalId: string): Promise<ApprovalRequest | undefined> => {
    const raw = await store.kvGet(REQUESTS, approvalId);
    return raw ? (JSON.parse(raw) as ApprovalRequest) : undefined;
  };
  /** The requester hears the decision in their own chat (the admin's answer goes to the admin's). */
  const tellRequester = async (
    request: ApprovalRequest | undefined,
    text: string,
    key: string,
    event: InboundEvent,
  ) => {
    if (!request) return;
    const same =
      request.deliverTo.channel === event.channel &&
      request.deliverTo.account === event.account &&
      request.deliverTo.conversationId === event.conversation.id;
    if (same) return;
    await services.deliver(request.deliverTo, { text }, key).catch(() => {});
  };
  const list = (
    name: string,
    usage: string,
    path: string,
    key: string,
    line: (o: Record<string, unknown>) => string,
    cls: "public" | "admin" = "admin",
  ) =>
    commands.register({
      name,
      description: usage,
      defaultClass: cls,
      handler: friendly(async () => {
        const items = itemsOf((await client().call("GET", path)).json, key);
        return {
          text: items.length
            ? `${usage} (${items.length}):\n${items.map((o) => `• ${line(o)}`).join("\n")}`
            : `${usage}: none.`,
        };
      }),
    });

  commands.register({
    name: "/run",
    usage: "/run <template> [k=v ...] [--approval]",
    description: "Run a template through ComfyUI-OpenClaw",
    defaultClass: "run",
    handler: friendly(async ({ event, command, needsApproval }) => {
      const [id, ...words] = command.positional;
      if (!id) return { text: "Usage: /run <template> [k=v ...] [text] [--approval]", kind: "error" };
      const inputs: Record<string, string> = { ...command.kv };
      const c = client();
      if (words.length) inputs[promptKeyFor(await allowedInputs(c, id))] ??= words.join(" ");
      const traceId = `cg_${event.id.replace(/[^A-Za-z0-9]/g, "").slice(-24)}`;
      const { status, json } = await c.call(
        "POST",
        "/openclaw/triggers/fire",
        {
          template_id: id,
          inputs,
          trace_id: traceId,
          require_approval: Boolean(needsApproval || command.flags.approval || command.flags.a),
        },
        `template "${id}"`,
      );
      if (status === 202 || json.pending) {
        const approvalId = first(json, "approval_id");
        if (approvalId) {
          const request: ApprovalRequest = {
            deliverTo: here(event),
            requestedBy: `${event.channel}:${event.sender.id}`,
            template: id,
            inputs,
          };
          await store.kvSet(REQUESTS, approvalId, JSON.stringify(request), KEEP_MS);
        }
        return {
          text: `[Approval Requested]\nID: ${String(json.approval_id)}\nTrace: ${traceId}\nExpires: ${String(json.expires_at ?? "?")}`,
        };
      }
      const promptId = first(json, "prompt_id");
      if (!promptId)
        return {
          text: `ComfyUI-OpenClaw did not start ${id}: ${JSON.stringify(json).slice(0, 300)}`,
          kind: "error",
        };
      await tracker.adopt(promptId, c.server, {
        template: id,
        inputs,
        deliverTo: here(event),
        requestedBy: `${event.channel}:${event.sender.id}`,
        source: "chat",
      });
      return {
        text: `🎨 Queued ${id} — job ${promptId}${json.deduped ? " (deduplicated)" : ""}\nTrace: ${traceId}`,
      };
    }),
  });

  list(
    "/templates",
    "Templates",
    "/openclaw/templates",
    "templates",
    (o) => `${first(o, "id", "template_id", "name")}`,
  );
  commands.register({
    name: "/jobs",
    description: "Jobs",
    defaultClass: "admin",
    handler: friendly(async () => {
      let items: Record<string, unknown>[];
      try {
        items = itemsOf((await client().call("GET", "/openclaw/jobs")).json, "jobs");
      } catch (err) {
        // 501 jobs_host_contract_unsupported: the extension on a ComfyUI without /api/jobs.
        if (!(err instanceof ComfyError && err.status === 501)) throw err;
        return { text: await nativeQueueView(pool, tracker) };
      }
      const lines = items.map(
        (o) => `• ${first(o, "prompt_id", "id")}: ${first(o, "status", "state") ?? "?"}`,
      );
      return { text: lines.length ? `Jobs (${lines.length}):\n${lines.join("\n")}` : "Jobs: none." };
    }),
  });
  list(
    "/approvals",
    "Pending approvals",
    "/openclaw/approvals?status=pending",
    "approvals",
    (o) =>
      `${first(o, "approval_id", "id")} — ${first(o, "template_id", "template") ?? "?"}, expires ${first(o, "expires_at") ?? "?"}`,
  );
  list(
    "/schedules",
    "Schedules",
    "/openclaw/schedules",
    "schedules",
    (o) =>
      `${first(o, "schedule_id", "id")} — ${first(o, "name") ?? ""} template ${first(o, "template_id", "template") ?? "?"}, ` +
      `${first(o, "cron", "cron_expr") ?? (first(o, "interval_sec") ? `every ${first(o, "interval_sec")} s` : "?")}, ${o.enabled === false ? "paused" : "active"}`,
  );

  commands.register({
    name: "/approve",
    usage: "/approve <id>",
    description: "Approve a pending request on ComfyUI-OpenClaw",
    defaultClass: "admin",
    handler: friendly(async ({ event, command }) => {
      const id = command.positional[0];
      if (!id) return { text: "Usage: /approve <id>", kind: "error" };
      const c = client();
      const { json } = await c.call(
        "POST",
        `/openclaw/approvals/${encodeURIComponent(id)}/approve`,
        { auto_execute: true, actor: `${event.channel}:${event.sender.id}` },
        `approval "${id}"`,
      );
      const text = approvedText(id, json);
      const promptId = first(json, "prompt_id", "executed_prompt_id");
      const request = await readRequest(id);
      await store.kvSet(
        DECISIONS,
        id,
        JSON.stringify({
          decision: "approved",
          by: `${event.channel}:${event.sender.id}`,
          at: Date.now(),
          promptId,
        }),
        KEEP_MS,
      );
      if (promptId) {
        // Followed like any job: the images go to whoever asked (this chat when clawgate did not see the ask).
        await tracker.adopt(promptId, c.server, {
          template: request?.template ?? first(json, "template_id") ?? "approved job",
          inputs: request?.inputs ?? {},
          deliverTo: request?.deliverTo ?? here(event),
          requestedBy: request?.requestedBy ?? `approved by ${event.channel}:${event.sender.id}`,
          source: "approval",
          approvalId: id,
        });
      }
      await tellRequester(request, text, `comfyui:openclaw-approved:${id}`, event);
      return { text };
    }),
  });
  commands.register({
    name: "/reject",
    usage: "/reject <id> [reason]",
    description: "Reject a pending request on ComfyUI-OpenClaw",
    defaultClass: "admin",
    handler: friendly(async ({ event, command }) => {
      const id = command.positional[0];
      if (!id) return { text: "Usage: /reject <id> [reason]", kind: "error" };
      const reason = command.rest.slice(command.rest.indexOf(id) + id.length).trim();
      const actor = `${event.channel}:${event.sender.id}`;
      // The extension reads `actor` (and keeps no reason): the reason stays in clawgate's record.
      await client().call(
        "POST",
        `/openclaw/approvals/${encodeURIComponent(id)}/reject`,
        { actor },
        `approval "${id}"`,
      );
      await store.kvSet(
        DECISIONS,
        id,
        JSON.stringify({ decision: "rejected", by: actor, at: Date.now(), reason: reason || undefined }),
        KEEP_MS,
      );
      const text = `[Rejected] ${id}${reason ? `\nReason: ${reason}` : ""}`;
      await tellRequester(await readRequest(id), text, `comfyui:openclaw-rejected:${id}`, event);
      return { text };
    }),
  });
  commands.register({
    name: "/schedule",
    usage: "/schedule run <id>",
    description: "Trigger a ComfyUI-OpenClaw schedule now",
    defaultClass: "admin",
    handler: friendly(async ({ event, command }) => {
      const [verb, id] = command.positional;
      if (verb !== "run" || !id)
        return {
          text: "Usage: /schedule run <id> (pause/resume are managed in ComfyUI-OpenClaw)",
          kind: "error",
        };
      const c = client();
      const { json } = await c.call(
        "POST",
        `/openclaw/schedules/${encodeURIComponent(id)}/run`,
        undefined,
        `schedule "${id}"`,
      );
      const promptId = first(json, "prompt_id");
      if (promptId)
        await tracker.adopt(promptId, c.server, {
          template: first(json, "template_id") ?? `schedule ${id}`,
          inputs: {},
          deliverTo: here(event),
          requestedBy: `${event.channel}:${event.sender.id}`,
          source: "schedule",
          scheduleId: id,
        });
      return {
        text: `▶️ Schedule ${id} triggered${promptId ? ` — job ${promptId}\nThe images will be sent here when they are ready.` : ""}`,
      };
    }),
  });
  commands.register({
    name: "/trace",
    usage: "/trace <prompt id>",
    description: "The execution trace of a job (from ComfyUI-OpenClaw)",
    defaultClass: "admin",
    handler: friendly(async ({ command }) => {
      const id = command.positional[0];
      if (!id) return { text: "Usage: /trace <prompt id>", kind: "error" };
      const { json } = await client().call(
        "GET",
        `/openclaw/trace/${encodeURIComponent(id)}`,
        undefined,
        `trace for "${id}"`,
      );
      return { text: `Trace ${id}:\n${JSON.stringify(json, null, 2).slice(0, 3500)}` };
    }),
  });
  commands.register({
    name: "/stop",
    usage: "/stop",
    description: "Interrupt running generations",
    defaultClass: "admin",
    handler: friendly(async ({ command }) => ({
      text: (await tracker.stopJobs(command.positional)).join("\n") || "⏹ Interrupt sent.",
    })),
  });
  commands.register({
    name: "/history",
    usage: "/history <job id>",
    description: "Details of a job",
    defaultClass: "public",
    handler: friendly(async ({ command }) => {
      const id = command.positional[0];
      if (!id) return { text: "Usage: /history <job id>", kind: "error" };
      const job = await tracker.jobs.find(id);
      if (job)
        return {
          text: `Job ${job.promptId}: ${job.state}${job.images !== undefined ? `, ${job.images} image(s)` : ""}${job.error ? `, error: ${job.error.message}` : ""}`,
        };
      for (const s of pool.servers) {
        const entry = await s.client.history(id).catch(() => undefined);
        if (entry) return { text: `Job ${id} on ${s.name}: ${entry.status?.status_str ?? "unknown"}` };
      }
      return { text: `No job ${id}.`, kind: "error" };
    }),
  });
}

/** /jobs when the extension cannot list jobs: clawgate's own open jobs and each server's native queue. */
async function nativeQueueView(pool: ComfyPool, tracker: JobTracker): Promise<string> {
  const open = await tracker.jobs.open();
  const queues = await pool.queueSummary();
  return [
    "ComfyUI-OpenClaw cannot list jobs on this ComfyUI (501 jobs_host_contract_unsupported); ComfyUI's own queue:",
    ...(open.length
      ? open.map((j) => `• ${j.promptId} ${j.template} — ${j.state} on ${j.serverName}`)
      : ["No active jobs from this chat gateway."]),
    queues,
  ].join("\n");
}
