// /admin/api/schedules: what `clawgate schedules …` calls. Guarded by the admin token like the rest of the
// admin API.
import type { ExtensionHost } from "../gateway/host.ts";
import { readJsonObject } from "../http/json-body.ts";
import { sendError, sendJson } from "../http/respond.ts";
import type { Scheduler } from "./scheduler.ts";
import { nextTickAfter, parseInterval, validateCron } from "./timing.ts";

export function registerScheduleAdminRoutes(gw: ExtensionHost, scheduler: Scheduler) {
  gw.adminRoutes.add("GET", "/admin/api/schedules", async (_req, res) =>
    sendJson(res, 200, { ok: true, schedules: await scheduler.store.list() }),
  );
  // The next run times of a cron expression, so the console can show what a schedule would do before it is saved.
  gw.adminRoutes.add("GET", "/admin/api/schedules/preview", (_req, res, { url }) => {
    const cron = url.searchParams.get("cron")?.trim() ?? "";
    const timezone = url.searchParams.get("timezone")?.trim() || undefined;
    const count = Number(url.searchParams.get("count") ?? 5);
    if (!cron) return sendError(res, 400, 'give ?cron=<expression>, e.g. "0 9 * * *"');
    if (!Number.isInteger(count) || count < 1 || count > 50)
      return sendError(res, 400, "count must be a whole number from 1 to 50");
    try {
      validateCron(cron, timezone);
    } catch (err) {
      return sendError(res, 400, (err as Error).message);
    }
    const runs: number[] = [];
    let after = Date.now();
    while (runs.length < count) {
      const next = nextTickAfter({ cron, timezone, anchorAt: 0 }, after);
      if (next === undefined) break;
      runs.push(next);
      after = next;
    }
    sendJson(res, 200, { ok: true, cron, runs, times: runs.map((t) => new Date(t).toISOString()) });
  });
  gw.adminRoutes.add("POST", "/admin/api/schedules", async (_req, res, { body }) => {
    const json = readJsonObject(body, { emptyIsObject: true });
    if (!json) return sendError(res, 400, "body must be a JSON object");
    const every =
      typeof json.every === "string"
        ? parseInterval(json.every)
        : typeof json.everySec === "number"
          ? json.everySec
          : undefined;
    if (json.every !== undefined && !every)
      return sendError(res, 400, "every must be an interval like 30s, 10m, 2h or 1d");
    if (typeof json.template !== "string" || typeof json.target !== "string")
      return sendError(
        res,
        400,
        'template and target are required, e.g. {"template":"txt2img","target":"telegram:123456","cron":"0 9 * * *"}',
      );
    const inputs =
      json.inputs && typeof json.inputs === "object" ? (json.inputs as Record<string, unknown>) : {};
    try {
      const s = await scheduler.add({
        template: json.template,
        target: json.target,
        inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k.toLowerCase(), String(v)])),
        cron: typeof json.cron === "string" ? json.cron : undefined,
        timezone: typeof json.timezone === "string" ? json.timezone : undefined,
        everySec: every,
        createdBy: "admin api",
      });
      sendJson(res, 201, { ok: true, schedule: s });
    } catch (err) {
      sendError(res, 400, (err as Error).message);
    }
  });
  gw.adminRoutes.add("DELETE", "/admin/api/schedules/:id", async (_req, res, { params }) => {
    if (!(await scheduler.store.remove(params.id!))) return sendError(res, 404, `no schedule ${params.id}`);
    sendJson(res, 200, { ok: true });
  });
  for (const verb of ["run", "pause", "resume"] as const) {
    gw.adminRoutes.add("POST", `/admin/api/schedules/:id/${verb}`, async (_req, res, { params }) => {
      try {
        if (verb === "run") {
          const r = await scheduler.runNow(params.id!);
          if (!r) return sendError(res, 404, `no schedule ${params.id}`);
          return sendJson(res, 200, {
            ok: true,
            promptId: r.promptId,
            schedule: await scheduler.store.get(params.id!),
          });
        }
        const s = await scheduler.setPaused(params.id!, verb === "pause");
        if (!s) return sendError(res, 404, `no schedule ${params.id}`);
        sendJson(res, 200, { ok: true, schedule: s });
      } catch (err) {
        sendError(res, 502, (err as Error).message);
      }
    });
  }
}
