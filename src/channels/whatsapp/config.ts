// WhatsApp Cloud API settings: `channels.whatsapp` in clawgate.json, or the connector seed's
// OPENCLAW_CONNECTOR_WHATSAPP_* variables.
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import { seedEnvSection } from "../shared/seed-env.ts";
import {
  apiBaseSchema,
  bodyLimitSchema,
  numericListenSchema,
  requiredString,
  webhookPathSchema,
} from "../shared/settings.ts";

export const WHATSAPP_DEFAULTS = {
  port: 8098,
  path: "/whatsapp/webhook",
  apiBase: "https://graph.facebook.com",
  apiVersion: "v23.0",
};

/** wa_id values are digits only; "+1 555-0100" in a config means 15550100. */
const phones = z
  .array(z.union([z.string(), z.number()]).transform((v) => String(v).replace(/\D/g, "")))
  .default([])
  .transform((l) => l.filter(Boolean));

export const whatsappSettingsSchema = z.object({
  accessToken: requiredString("a Cloud API access token (a System User token for production)"),
  verifyToken: requiredString("any secret string; enter the same one as the webhook's Verify token"),
  appSecret: requiredString("clawgate refuses unsigned webhooks (App settings → Basic → App secret)"),
  phoneNumberId: z
    .string({ error: "required: the numeric Phone number ID from WhatsApp → API Setup" })
    .regex(/^\d+$/, "the numeric Phone number ID from WhatsApp → API Setup"),
  allowedUsers: phones,
  path: webhookPathSchema.default(WHATSAPP_DEFAULTS.path),
  listen: numericListenSchema,
  apiBase: apiBaseSchema(WHATSAPP_DEFAULTS.apiBase),
  apiVersion: z
    .string()
    .regex(/^v\d+\.\d+$/, "a Graph API version like v23.0")
    .default(WHATSAPP_DEFAULTS.apiVersion),
  /** "upload": images are uploaded to WhatsApp first; "link": WhatsApp fetches a signed media link. */
  mediaMode: z.enum(["upload", "link"]).default("upload"),
  bodyLimitBytes: bodyLimitSchema,
  /**
   * Messages per second this business number may send: Cloud API's default is 80, numbers Meta has upgraded take
   * up to 1,000, and numbers shared with the WhatsApp Business app ("coexistence") are fixed at 20
   * (developers.facebook.com/documentation/business-messaging/whatsapp/throughput).
   */
  throughputMps: z.number().positive().max(1000).default(80),
});

export type WhatsappSettings = z.output<typeof whatsappSettingsSchema>;

/** OPENCLAW_CONNECTOR_WHATSAPP_*: configuring WhatsApp this way also opens the seed's listener (default :8098). */
export function whatsappFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "WHATSAPP", {
    requiredAny: ["ACCESS_TOKEN", "VERIFY_TOKEN", "PHONE_NUMBER_ID"],
    strings: {
      ACCESS_TOKEN: "accessToken",
      VERIFY_TOKEN: "verifyToken",
      APP_SECRET: "appSecret",
      PHONE_NUMBER_ID: "phoneNumberId",
    },
    lists: { ALLOWED_USERS: "allowedUsers" },
    defaultPort: WHATSAPP_DEFAULTS.port,
  });
}
