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

/** The same listener where the port must already be a number (sections validated from JSON and env only). */
export const numericListenSchema = z
  .object({ host: z.string().min(1).default("127.0.0.1"), port: z.number().int().min(0).max(65535) })
  .optional();

/** An HTTP path for a channel's webhook route. */
export const webhookPathSchema = z
  .string()
  .regex(/^\/[^\s?#]*$/, "must start with / and contain no spaces, ? or #");

export const pathSchema = webhookPathSchema.optional();

/** A list of ids as a JSON array only (strings or numbers), each trimmed. */
export const idArraySchema = z
  .array(z.union([z.string(), z.number()]).transform((v) => String(v).trim()))
  .default([]);

/** A setting that must be present: the message says where to find it. */
export const requiredString = (where: string) =>
  z.string({ error: `required: ${where}` }).min(1, `required: ${where}`);

/** How large a webhook body the channel's route accepts (larger ones are a 413). */
export const bodyLimitSchema = z.number().int().min(1024).max(10_485_760).default(1_048_576);

/** Base URL of a platform API (proxies, regional endpoints, tests); trailing slashes dropped. */
export const apiBaseSchema = (fallback: string) =>
  z
    .url()
    .default(fallback)
    .transform((u) => u.replace(/\/+$/, ""));
