// Installs the ComfyUI target into a gateway: the pool and its health checks, job tracking, approvals,
// schedules, the chat commands and buttons, the /status lines and the schedules admin API. Does nothing when
// ComfyUI is not configured (see config.ts for how that is decided).
import { registerApprovalAdminRoutes } from "../../approvals/admin-routes.ts";
import { registerApprovalCommands } from "../../approvals/commands.ts";
import { ApprovalService } from "../../approvals/service.ts";
import type { ExtensionHost, GatewayExtension } from "../../gateway/host.ts";
import { registerScheduleAdminRoutes } from "../../schedules/admin-routes.ts";
import { registerScheduleCommands } from "../../schedules/commands.ts";
import { Scheduler } from "../../schedules/scheduler.ts";
import { stableClientId } from "./client-id.ts";
import { RUN_APPROVAL_KIND, registerComfyCommands } from "./commands.ts";
import { type ResolvedComfyui, resolveComfyui } from "./config.ts";
import { JobTracker } from "./jobs.ts";
import { registerOpenClawCommands } from "./openclaw.ts";
import { replyImagesRecord } from "./photos.ts";
import { ComfyPool } from "./pool.ts";
import { TemplateRunner } from "./runner.ts";
import type { InputValue } from "./templates.ts";

export interface ComfyuiRuntime {
  cfg: ResolvedComfyui;
  pool: ComfyPool;
  tracker: JobTracker;
  runner: TemplateRunner;
  approvals: ApprovalService;
  scheduler: Scheduler;
}

export function comfyuiExtension(): GatewayExtension & { runtime?: ComfyuiRuntime } {
  let runtime: ComfyuiRuntime | undefined;
  const ext: GatewayExtension & { runtime?: ComfyuiRuntime } = {
    name: "comfyui",
    setup(gw: ExtensionHost) {
      const cfg = resolveComfyui(gw.config, gw.env);
      if (!cfg) {
        gw.log.debug(
          "ComfyUI is not configured (no comfyui section, OPENCLAW_CONNECTOR_URL or templates directory)",
        );
        return;
      }
      const s = gw.services;
      // Every incoming photo is remembered by its message id, so `/run <template>` as a reply to it finds it.
      gw.inbound.observe((event) => {
        const record = event.messageId ? replyImagesRecord(event, event.messageId) : undefined;
        return record ? [record] : undefined;
      });
      const headers: Record<string, string> =
        cfg.target === "comfyui-openclaw" && cfg.adminToken
          ? { "X-OpenClaw-Admin-Token": cfg.adminToken }
          : {};
      const pool = new ComfyPool(cfg.servers, {
        log: gw.log,
        healthIntervalMs: cfg.healthIntervalMs,
        timeoutMs: cfg.requestTimeoutMs,
        headers,
      });
      const tracker = new JobTracker(s, pool, cfg, stableClientId(gw.config.dataDir, cfg.clientId));
      const runner = new TemplateRunner(cfg.templatesDir, tracker, s.media.files);
      const approvals = new ApprovalService(s, { ...cfg.approvals, owner: gw.owner });
      const scheduler = new Scheduler(s, {
        owner: gw.owner,
        tickMs: cfg.schedules.tickMs,
        fire: async (schedule, tickAt) => {
          // Resolved at every tick, so seed=-1 means a new random seed each time.
          const p = await runner.prepare(schedule.template, schedule.inputs);
          const job = await runner.submit(p, schedule.deliverTo, {
            source: "schedule",
            scheduleId: schedule.id,
            requestedBy: `schedule ${schedule.id} (tick ${new Date(tickAt).toISOString()})`,
          });
          return job.promptId;
        },
        validate: async (template, kv) => {
          const p = await runner.prepare(template, kv);
          return p.inputs;
        },
      });
      approvals.registerExecutor(RUN_APPROVAL_KIND, async (a) => {
        const p = a.payload as { template: string; inputs: Record<string, InputValue> };
        const job = await runner.runResolved(p.template, p.inputs, a.requester.address, {
          source: "approval",
          approvalId: a.id,
          requestedBy: `${a.requester.channel}:${a.requester.senderId}`,
        });
        return `Executed: ${job.promptId}`;
      });
      runtime = { cfg, pool, tracker, runner, approvals, scheduler };
      ext.runtime = runtime;

      if (cfg.target === "comfyui-openclaw")
        registerOpenClawCommands(gw.commands, { cfg, pool, tracker, services: s });
      else {
        registerComfyCommands(gw.commands, {
          runner,
          tracker,
          pool,
          approvals,
          // A photo waits as long as an approval may.
          photoKeepSec: cfg.approvals.ttlSec + 3600,
        });
        registerApprovalCommands(gw.commands, gw.actions, approvals);
        registerScheduleCommands(gw.commands, scheduler);
      }
      registerScheduleAdminRoutes(gw, scheduler);
      registerApprovalAdminRoutes(gw.adminRoutes, approvals);
      gw.status.add(async () => {
        const open = await tracker.jobs.open();
        return [...pool.statusLines(), `ComfyUI jobs in progress: ${open.length}`].join("\n");
      });

      pool.start((server) => tracker.connect(server));
      tracker.start();
      if (cfg.target === "comfyui") {
        approvals.startSweeper();
        scheduler.start();
      }
      gw.log.info(
        { servers: cfg.servers.map((x) => x.url), templates: cfg.templatesDir, target: cfg.target },
        "ComfyUI target enabled",
      );
    },
    async stop() {
      if (!runtime) return;
      runtime.pool.stop();
      await runtime.scheduler.stop();
      await runtime.approvals.stop();
      await runtime.tracker.stop();
    },
  };
  return ext;
}
