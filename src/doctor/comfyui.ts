// ComfyUI, when configured: each server of the pool answers /system_stats (its version and first device). One
// server down in a pool is a warning (the others take the jobs); all down blocks /run.
import { failed, ok, warn } from "../channels/sdk/doctor.ts";
import type { DoctorCheck } from "../channels/types.ts";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/schema.ts";
import { ComfyClient } from "../targets/comfyui/client.ts";
import { resolveComfyui } from "../targets/comfyui/config.ts";

const FIX = "start ComfyUI (python main.py --listen) or fix comfyui.servers / OPENCLAW_CONNECTOR_URL";

export async function comfyuiChecks(config: Config, env: Env): Promise<DoctorCheck[]> {
  let resolved: ReturnType<typeof resolveComfyui>;
  try {
    resolved = resolveComfyui(config, env);
  } catch (err) {
    return [
      failed("comfyui", "ComfyUI", (err as Error).message, "correct the comfyui section or its env vars"),
    ];
  }
  if (!resolved) return [];
  const results = await Promise.all(
    resolved.servers.map(async (s) => {
      try {
        const stats = await new ComfyClient(s.url, { timeoutMs: 10_000 }).systemStats();
        const device = stats.devices?.[0]?.name ?? "no device listed";
        const version = stats.system?.comfyui_version ?? "unknown";
        return { s, up: true, detail: `${s.url}: ComfyUI ${version} on ${device}` };
      } catch (err) {
        // The client's "Is it running?" is what the fix below answers.
        return { s, up: false, detail: (err as Error).message.replace(/\.? Is it running\?$/, "") };
      }
    }),
  );
  const anyUp = results.some((r) => r.up);
  return results.map(({ s, up, detail }) => {
    const id = `comfyui.${s.name}`;
    const title = `ComfyUI ${s.name}`;
    if (up) return ok(id, title, detail);
    return anyUp
      ? warn(id, title, `${detail}: the other servers take its jobs`, FIX)
      : failed(id, title, `${detail}: /run cannot start a job`, FIX);
  });
}
