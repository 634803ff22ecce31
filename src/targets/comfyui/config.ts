// The `comfyui` config section and the connector seed's env vars. ComfyUI counts as configured when any of
// these is true: a `comfyui` section in clawgate.json (without enabled:false), OPENCLAW_CONNECTOR_URL is set,
// CLAWGATE_COMFYUI=1, or the templates directory exists. A plain `clawgate start` with none of them installs
// nothing, so a gateway without ComfyUI never polls a server that is not there.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { type ComfyuiConfig, comfyuiConfigSchema, DEFAULT_COMFYUI_URL } from "../../config/comfyui.ts";
import { csv, type Env, envBool, envInt } from "../../config/env.ts";
import type { Config } from "../../config/schema.ts";

export { type ComfyuiConfig, comfyuiConfigSchema, DEFAULT_COMFYUI_URL } from "../../config/comfyui.ts";

export interface ResolvedComfyui extends ComfyuiConfig {
  servers: { url: string; name: string }[];
  templatesDir: string;
}

/** Effective ComfyUI settings, or undefined when ComfyUI is not configured at all. */
export function resolveComfyui(config: Config, env: Env): ResolvedComfyui | undefined {
  const section = (config as Config & { comfyui?: ComfyuiConfig }).comfyui;
  const switchEnv = envBool(env.CLAWGATE_COMFYUI);
  if (switchEnv === false || section?.enabled === false) return undefined;
  const templatesDir = resolve(
    env.CLAWGATE_TEMPLATES_DIR || section?.templatesDir || resolve(config.dataDir, "templates"),
  );
  const urls = csv(env.OPENCLAW_CONNECTOR_URL);
  const configured =
    Boolean(section) || Boolean(urls?.length) || switchEnv === true || existsSync(templatesDir);
  if (!configured) return undefined;
  const base = comfyuiConfigSchema.parse(section ?? {});
  const list = urls?.length ? urls : (base.servers ?? [DEFAULT_COMFYUI_URL]);
  const servers = list.map((s, i) => {
    const url = (typeof s === "string" ? s : s.url).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(url))
      throw new Error(`ComfyUI server "${url}" must be an http(s) URL, e.g. ${DEFAULT_COMFYUI_URL}`);
    const name = typeof s === "string" ? undefined : s.name;
    return { url, name: name ?? (list.length > 1 ? `comfyui-${i + 1}` : "comfyui") };
  });
  const target = env.CLAWGATE_COMFYUI_TARGET?.trim();
  if (target && target !== "comfyui" && target !== "comfyui-openclaw")
    throw new Error(`CLAWGATE_COMFYUI_TARGET must be comfyui or comfyui-openclaw, found "${target}"`);
  const maxMb = env.OPENCLAW_CONNECTOR_MEDIA_MAX_MB ? Number(env.OPENCLAW_CONNECTOR_MEDIA_MAX_MB) : undefined;
  return {
    ...base,
    target: (target as ComfyuiConfig["target"]) || base.target,
    servers,
    templatesDir,
    adminToken: env.OPENCLAW_CONNECTOR_ADMIN_TOKEN || base.adminToken,
    clientId: env.CLAWGATE_COMFYUI_CLIENT_ID?.trim() || base.clientId,
    maxImageMB: maxMb && maxMb > 0 ? maxMb : base.maxImageMB,
    approvals: {
      ...base.approvals,
      ttlSec: envInt(env, "CLAWGATE_APPROVAL_TTL_SEC") ?? base.approvals.ttlSec,
      notify: csv(env.CLAWGATE_APPROVAL_NOTIFY) ?? base.approvals.notify,
    },
  };
}
