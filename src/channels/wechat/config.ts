// How `channels.wechat` is read, apart from the adapter: the registry builds the config schema from it without
// importing the adapter and its XML parser (src/channels/lazy.ts).
import { z } from "zod";
import type { Env } from "../../config/env.ts";
import { seedEnvSection } from "../shared/seed-env.ts";
import { apiBaseSchema, idListSchema, listenSchema, pathSchema } from "../shared/settings.ts";
import { WECHAT_API_BASE } from "./client.ts";

export const WECHAT_DEFAULT_PATH = "/wechat/webhook";
export const WECHAT_DEFAULT_PORT = 8097;

/** WeChat waits ~5 s for the passive reply; answer a little earlier. */
export const PASSIVE_REPLY_MS = 4500;

export const wechatSettingsSchema = z
  .looseObject({
    token: z.string().min(1, "token is required (OPENCLAW_CONNECTOR_WECHAT_TOKEN)"),
    appId: z.string().min(1).optional(),
    appSecret: z.string().min(1).optional(),
    /** Checked here, so a malformed key stops start-up with its key path instead of failing at the first message. */
    encodingAesKey: z
      .string()
      .regex(
        /^[A-Za-z0-9+/]{43}$/,
        "must be the 43-character EncodingAESKey from the WeChat console (letters, digits, + and /; it decodes to 32 bytes)",
      )
      .refine((k) => Buffer.from(`${k}=`, "base64").length === 32, "must decode to a 32-byte AES key")
      .optional(),
    allowedUsers: idListSchema,
    path: pathSchema,
    listen: listenSchema,
    apiBase: apiBaseSchema(WECHAT_API_BASE),
    timestampWindowSec: z.coerce.number().int().min(10).max(3600).default(300),
    /** How long the webhook waits for the answer before replying "success" (WeChat gives up after 5 s). */
    passiveReplyMs: z.coerce.number().int().min(0).max(4500).default(PASSIVE_REPLY_MS),
  })
  .refine((s) => !s.encodingAesKey || s.appId, {
    message: "safe mode (encodingAesKey) also needs appId, which every encrypted message is checked against",
    path: ["appId"],
  });
export type WechatSettings = z.output<typeof wechatSettingsSchema>;

/** The connector seed's OPENCLAW_CONNECTOR_WECHAT_* variables; the token turns the channel on. */
export function wechatFromEnv(env: Env): Record<string, unknown> | undefined {
  return seedEnvSection(env, "WECHAT", {
    requiredAny: ["TOKEN"],
    strings: {
      TOKEN: "token",
      APP_ID: "appId",
      APP_SECRET: "appSecret",
      ENCODING_AES_KEY: "encodingAesKey",
    },
    lists: { ALLOWED_USERS: "allowedUsers" },
    defaultPort: WECHAT_DEFAULT_PORT,
  });
}
