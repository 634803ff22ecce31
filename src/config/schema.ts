// The shape of clawgate.json. It also accepts the channel-gateway seed's ocg.json as is: its top-level keys
// (agentUrl, model, apiKey, verbose, async, callback*) and `channels.<id>` sections are part of this schema.
import { z } from "zod";
import { comfyuiConfigSchema } from "./comfyui.ts";
import { agentMediaSettings, inboundMediaSchema, withAnswerMediaAlias } from "./media.ts";
import { bridgeSchema, securitySchema } from "./security.ts";
import { memorySchema, workspacesSchema } from "./workspaces.ts";

const port = z.number().int().min(0).max(65535);
const idList = z.array(z.string().min(1));
const commandClass = z.enum(["public", "run", "admin"]);

export const channelSectionSchema = z.looseObject({
  enabled: z.boolean().optional(),
  /** Channel-level agent URL: the highest priority for this channel's conversations. */
  agentUrl: z.url().optional(),
  model: z.string().optional(),
  /** Who may talk to the bot in DMs: see docs/security.md. */
  dmPolicy: z.enum(["pairing", "allowlist", "open", "disabled"]).optional(),
  accounts: z.record(z.string(), z.looseObject({ enabled: z.boolean().optional() })).optional(),
});

export const configSchema = z.object({
  $schema: z.string().optional(),

  // ---- channel-gateway seed (ocg.json) keys, accepted as they are ----
  agentUrl: z.url().optional(),
  model: z.string().optional(),
  apiKey: z.string().optional(),
  verbose: z.boolean().optional(),
  async: z.boolean().optional(),
  callbackPort: port.optional(),
  callbackHost: z.string().optional(),
  callbackSecret: z.string().optional(),
  callbackTokenTTL: z.number().int().positive().optional(),
  /**
   * Refuse async callbacks whose signed body does not name its own token (`callbackToken`): binds every
   * signature to one callback URL. Off by default because the channel-gateway seed's agents do not send it.
   */
  callbackRequireToken: z.boolean().default(false),

  // ---- clawgate ----
  server: z
    .object({
      host: z.string().default("127.0.0.1"),
      port: port.default(8787),
      bodyLimitBytes: z.number().int().positive().default(1_048_576),
      requestTimeoutMs: z.number().int().positive().default(30_000),
      publicBaseUrl: z.url().optional(),
      /**
       * Further names (host names or IP addresses, no port) the gateway answers to on its admin, bridge, web chat
       * and media routes, besides the bound address, localhost, 127.0.0.1, [::1] and the public URLs' hosts.
       * Any other Host header is refused with 421 (DNS rebinding). "*" turns the check off.
       */
      allowedHosts: z.array(z.string().min(1).max(253)).max(100).default([]),
    })
    .prefault({}),
  dataDir: z.string().default("./data"),
  database: z
    .object({
      /** A SQLite file path (default <dataDir>/clawgate.db) or a postgres:// URL. */
      url: z.string().optional(),
    })
    .prefault({}),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  adminToken: z.string().min(16).optional(),
  agent: z
    .object({
      systemPrompt: z.string().optional(),
      /** How many earlier turns of the session are sent as context. */
      historyTurns: z.number().int().min(0).max(200).default(20),
      stream: z.boolean().default(true),
      temperature: z.number().min(0).max(2).optional(),
      maxTokens: z.number().int().positive().optional(),
      connectTimeoutMs: z.number().int().positive().default(10_000),
      firstTokenTimeoutMs: z.number().int().positive().default(120_000),
      totalTimeoutMs: z.number().int().positive().default(600_000),
      /** Retries on connection errors and 5xx, only before the first token arrived. */
      retries: z.number().int().min(0).max(5).default(2),
      /** Requests in flight to one agent URL at once, across conversations; the rest wait their turn. */
      maxConcurrent: z.number().int().min(1).max(1024).default(32),
      ...agentMediaSettings,
    })
    .transform(withAnswerMediaAlias)
    .prefault({}),
  policy: z
    .object({
      adminUsers: idList.default([]),
      overrides: z.record(z.string(), commandClass).default({}),
      allowFrom: z
        .object({ public: idList.default([]), run: idList.default([]), admin: idList.default([]) })
        .prefault({}),
      rateLimits: z
        .object({
          perUserPerMinute: z.number().int().positive().default(10),
          perChannelPerMinute: z.number().int().positive().default(30),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Caps that protect the process, the agent and the operator's bill (docs/security.md). */
  limits: z
    .object({
      /** Longer messages are refused with a note and never reach the agent (a command is capped at 4096). */
      inboundTextChars: z.number().int().min(1).max(1_000_000).default(16_000),
      /** Longer answers are cut here, and the user is told the answer was cut. */
      answerChars: z.number().int().min(200).max(1_000_000).default(20_000),
      /**
       * A sender on no allowlist (and not admitted by `dmPolicy: open`) gets at most `replies` replies of any
       * kind per `windowSec`, then silence until the window passes.
       */
      untrusted: z
        .object({
          replies: z.number().int().min(0).max(1000).default(3),
          windowSec: z.number().int().min(1).max(604_800).default(600),
        })
        .prefault({}),
    })
    .prefault({}),
  inbox: z
    .object({
      /** Conversations in flight: agent calls are waits, not CPU, so this is high; agent.maxConcurrent bounds each agent. */
      concurrency: z.number().int().min(1).max(1024).default(64),
      leaseMs: z.number().int().min(1000).default(60_000),
      maxAttempts: z.number().int().min(1).max(100).default(8),
    })
    .prefault({}),
  retention: z
    .object({
      /**
       * Finished inbox and outbox items are deleted after this many days. Finished inbox rows are also what
       * recognises a platform's redelivery, so keep this longer than any platform retries (days, not minutes).
       */
      finishedDays: z.number().min(1).max(3650).default(7),
      /** How often the cleanup runs. */
      intervalMs: z.number().int().min(60_000).default(3_600_000),
    })
    .prefault({}),
  outbox: z
    .object({
      /**
       * How long a claimed delivery stays with one process before another may take it; extended while the send is
       * in flight, so it only bounds how long a chat waits after a crash.
       */
      leaseMs: z.number().int().min(1000).default(15_000),
    })
    .prefault({}),
  /** Signed, expiring media links under server.publicBaseUrl (docs/media.md). */
  media: z
    .object({
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9._~/-]*[^/]$/, "must start with / and not end with /, e.g. /media")
        .default("/media"),
      ttlSec: z.number().int().min(60).max(86_400).default(300),
      maxMb: z.number().positive().max(100).default(8),
      inbound: inboundMediaSchema,
    })
    .prefault({}),
  webchat: z
    .object({
      enabled: z.boolean().default(true),
      /** Bearer token required for requests that do not come from loopback. */
      token: z.string().min(16).optional(),
    })
    .prefault({}),
  /** Web chat workspaces and memory (src/config/workspaces.ts, docs/webchat-api.md). */
  workspaces: workspacesSchema,
  memory: memorySchema,
  channels: z.record(z.string(), channelSectionSchema).default({}),
  /** Outside plugins: npm package names or paths relative to this file (src/plugins/loader.ts, docs/plugins.md). */
  plugins: z.array(z.string().min(1)).default([]),
  /** The security boundary (src/config/security.ts): fetch guard, pairing. */
  security: securitySchema,
  /** The bridge API for paired devices (src/config/security.ts). */
  bridge: bridgeSchema,
  /** ComfyUI target, approvals and schedules (src/targets/comfyui/config.ts, docs/comfyui.md). */
  comfyui: comfyuiConfigSchema.optional(),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ChannelSection = z.output<typeof channelSectionSchema>;
