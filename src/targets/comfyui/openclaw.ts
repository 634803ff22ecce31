// The `comfyui-openclaw` target: for users who already run the ComfyUI-OpenClaw extension, the chat commands
// call its endpoints (templates, triggers, approvals, schedules, traces live there) with
// X-OpenClaw-Admin-Token. Jobs it starts are still followed through ComfyUI's own /ws and /history, so the
// images come back to the chat the same way.
import { addressOf } from "../../core/event.ts";
import type { CommandRegistry } from "../../gateway/commands.ts";
import { ComfyError } from "./client.ts";
import { friendly } from "./commands.ts";
import type { ResolvedComfyui } from "./config.ts";
import type { JobTracker } from "./jobs.ts";
import type { ComfyPool, ServerState } from "./pool.ts";

export class OpenClawClient {
  readonly #server: ServerState;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  constructor(server: ServerState, token: string | undefined, timeoutMs: number) {
    this.#server = server;
    this.#token = token;
    this.#timeoutMs = timeoutMs;
  }

  get server() {
    return this.#server;
  }

  async call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = this.#server.client.url + path;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          ...(this.#token ? { "X-OpenClaw-Admin-Token": this.#token } : {}),
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new ComfyError(
        `ComfyUI-OpenClaw at ${this.#server.client.url} is not reachable (${(err as Error).message}). Is ComfyUI running?`,
        {
          unreachable: true,
        },
      );
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status === 403) {
      throw new ComfyError(
        this.#token
          ? "HTTP 403 (Admin Token): ComfyUI-OpenClaw rejected the admin token. Set OPENCLAW_CONNECTOR_ADMIN_TOKEN to the same value as the server's OPENCLAW_ADMIN_TOKEN."
          : "HTTP 403 (Admin Token): ComfyUI-OpenClaw requires an admin token. Set OPENCLAW_CONNECTOR_ADMIN_TOKEN to the server's OPENCLAW_ADMIN_TOKEN.",
        { status: 403 },
      );
    }
    if (res.status === 404)
      throw new ComfyError(
        `${path} is not there (HTTP 404): is the ComfyUI-OpenClaw extension installed on ${this.#server.client.url}?`,
        { status: 404 },
      );
    if (!res.ok && res.status !== 202)
      throw new ComfyError(
        `ComfyUI-OpenClaw answered ${method} ${path} with HTTP ${res.status}: ${String(json.error ?? json.message ?? "")}`,
        {
          status: res.status,
          unreachable: res.status >= 500,
        },
      );
    return { status: res.status, json };
  }
}

/** Items of whatever list a response carries ({jobs:[…]}, {approvals:[…]}, or a bare array). */
function itemsOf(json: unknown, key: string): Record<string, unknown>[] {
  if (Array.isArray(json)) return json as Record<string, unknown>[];
  const o = json as Record<string, unknown>;
  const v = o?.[key] ?? o?.items ?? o?.data;
  if (Array.isArray(v)) return v as Record<string, unknown>[];
  if (v && typeof v === "object") return Object.entries(v).map(([id, x]) => ({ id, ...(x as object) }));
  return [];
}

const first = (o: Record<string, unknown>, ...keys: string[]) => {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== "") return String(o[k]);
  return undefined;
};

export function registerOpenClawCommands(
  commands: CommandRegistry,
  deps: { cfg: ResolvedComfyui; pool: ComfyPool; tracker: JobTracker },
) {
  const { cfg, pool, tracker } = deps;
  const client = () => new OpenClawClient(pool.ranked()[0]!, cfg.adminToken, cfg.requestTimeoutMs);
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
      if (words.length) inputs.prompt ??= words.join(" ");
      const c = client();
      const traceId = `cg_${event.id.replace(/[^A-Za-z0-9]/g, "").slice(-24)}`;
      const { status, json } = await c.call("POST", "/openclaw/triggers/fire", {
        template_id: id,
        inputs,
        trace_id: traceId,
        require_approval: Boolean(needsApproval || command.flags.approval || command.flags.a),
      });
      if (status === 202 || json.pending) {
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
        deliverTo: { ...addressOf(event), replyContext: undefined },
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
  list(
    "/jobs",
    "Jobs",
    "/openclaw/jobs",
    "jobs",
    (o) => `${first(o, "prompt_id", "id")}: ${first(o, "status", "state") ?? "?"}`,
  );
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
    handler: friendly(async ({ command }) => {
      const id = command.positional[0];
      if (!id) return { text: "Usage: /approve <id>", kind: "error" };
      const { json } = await client().call("POST", `/openclaw/approvals/${encodeURIComponent(id)}/approve`, {
        auto_execute: true,
      });
      const promptId = first(json, "prompt_id", "executed_prompt_id");
      return {
        text: promptId ? `[Approved] ${id}\nExecuted: ${promptId}` : `[Approved] ${id} (Not Executed)`,
      };
    }),
  });
  commands.register({
    name: "/reject",
    usage: "/reject <id> [reason]",
    description: "Reject a pending request on ComfyUI-OpenClaw",
    defaultClass: "admin",
    handler: friendly(async ({ command }) => {
      const id = command.positional[0];
      if (!id) return { text: "Usage: /reject <id> [reason]", kind: "error" };
      const reason = command.rest.slice(command.rest.indexOf(id) + id.length).trim();
      await client().call("POST", `/openclaw/approvals/${encodeURIComponent(id)}/reject`, { reason });
      return { text: `[Rejected] ${id}${reason ? `\nReason: ${reason}` : ""}` };
    }),
  });
  commands.register({
    name: "/schedule",
    usage: "/schedule run <id>",
    description: "Trigger a ComfyUI-OpenClaw schedule now",
    defaultClass: "admin",
    handler: friendly(async ({ command }) => {
      const [verb, id] = command.positional;
      if (verb !== "run" || !id)
        return {
          text: "Usage: /schedule run <id> (pause/resume are managed in ComfyUI-OpenClaw)",
          kind: "error",
        };
      const { json } = await client().call("POST", `/openclaw/schedules/${encodeURIComponent(id)}/run`);
      return {
        text: `▶️ Schedule ${id} triggered${first(json, "prompt_id") ? ` — job ${first(json, "prompt_id")}` : ""}`,
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
      const { json } = await client().call("GET", `/openclaw/trace/${encodeURIComponent(id)}`);
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
