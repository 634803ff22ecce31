// The `comfyui` section of clawgate.json. The schema lives with the rest of the config (config never imports a
// feature); src/targets/comfyui/config.ts resolves it with the connector seed's env vars.
import { z } from "zod";

export const DEFAULT_COMFYUI_URL = "http://127.0.0.1:8188";

const server = z.union([z.url(), z.object({ url: z.url(), name: z.string().min(1).optional() })]);

export const comfyuiConfigSchema = z.object({
  enabled: z.boolean().optional(),
  /** "comfyui" talks to ComfyUI's own API; "comfyui-openclaw" calls the ComfyUI-OpenClaw extension. */
  target: z.enum(["comfyui", "comfyui-openclaw"]).default("comfyui"),
  /** One or more servers; several form a pool. Default http://127.0.0.1:8188. */
  servers: z.array(server).min(1).optional(),
  /** WebSocket client id (per replica); default an id kept in <dataDir>/comfyui-client-id. */
  clientId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
  /** Default <dataDir>/templates. */
  templatesDir: z.string().optional(),
  /** Sent as X-OpenClaw-Admin-Token to the ComfyUI-OpenClaw extension (OPENCLAW_CONNECTOR_ADMIN_TOKEN). */
  adminToken: z.string().optional(),
  maxImages: z.number().int().min(1).max(20).default(4),
  maxImageMB: z.number().positive().max(100).default(8),
  healthIntervalMs: z.number().int().min(100).default(10_000),
  /** How often unfinished jobs without live events are re-checked through /history. */
  reconcileIntervalMs: z.number().int().min(100).default(5_000),
  /** How often jobs whose events go to another client (the extension's) are looked up in /queue and /history. */
  pollIntervalMs: z.number().int().min(100).default(1_000),
  /** Least time between two edits of a progress message. */
  progressIntervalMs: z.number().int().min(0).default(1_500),
  requestTimeoutMs: z.number().int().min(100).default(15_000),
  approvals: z
    .object({
      ttlSec: z
        .number()
        .int()
        .min(1)
        .max(7 * 86_400)
        .default(3_600),
      /** Session keys (telegram:123456) that get every approval request, besides admins seen recently. */
      notify: z.array(z.string().min(3)).default([]),
      sweepIntervalMs: z.number().int().min(50).default(5_000),
    })
    .prefault({}),
  schedules: z
    .object({
      tickMs: z.number().int().min(50).default(1_000),
    })
    .prefault({}),
});

export type ComfyuiConfig = z.output<typeof comfyuiConfigSchema>;
