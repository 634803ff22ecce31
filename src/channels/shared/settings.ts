// zod pieces every channel's settings use, so `clawgate channels add --allowedUsers a,b` and a JSON array in
// clawgate.json mean the same thing.
import { z } from "zod";

/** A list of ids: a JSON array, or one comma-separated string (what env vars and the CLI give). */
export const idListSchema = z
  .union([z.array(z.coerce.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter(Boolean))
  .default([]);

/** The connector seed's own listener for a channel (`OPENCLAW_CONNECTOR_<P>_BIND` / `_PORT`). */
export const listenSchema = z
  .object({
    host: z.string().min(1).default("127.0.0.1"),
    port: z.coerce.number().int().min(0).max(65535),
  })
  .optional();

export const pathSchema = z
  .string()
  .regex(/^\/[^\s?#]*$/, "must start with / and contain no spaces, ? or #")
  .optional();

/** Base URL of a platform API (proxies, regional endpoints, tests); trailing slashes dropped. */
export const apiBaseSchema = (fallback: string) =>
  z
    .url()
    .default(fallback)
    .transform((u) => u.replace(/\/+$/, ""));
