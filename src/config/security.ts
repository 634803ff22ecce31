// The `security` and `bridge` sections of clawgate.json (documented in docs/configuration.md and
// docs/security.md). With the rest of the config: config never imports the features that read it.
import { z } from "zod";

export const securitySchema = z
  .object({
    /** Let fetches made on a chat user's behalf reach loopback/private addresses (single-user setups). */
    allowPrivateFetch: z.boolean().default(false),
    /** Hosts that may be fetched whatever they resolve to (e.g. an internal media server). */
    fetchAllowHosts: z.array(z.string().min(1)).default([]),
    /** Base URL advertised in X-OCG-Callback (default http://<callbackHost>:<callbackPort>). */
    callbackPublicUrl: z.url().optional(),
    pairing: z
      .object({
        /** The URL put in setup codes; default server.publicBaseUrl, else the main listener. */
        publicUrl: z.url().optional(),
        /** Bootstrap token lifetime (at most 10 minutes). */
        bootstrapTtlSec: z.number().int().min(30).max(600).default(600),
        /** Device token lifetime: 60 s to 24 h. */
        tokenTtlSec: z.number().int().min(60).max(86_400).default(3600),
        /** How long the previous token keeps working after a rotation. */
        rotationOverlapSec: z.number().int().min(0).max(3600).default(300),
        /** Handshake attempts per client address per minute (brute-force guard). */
        handshakePerMinute: z.number().int().min(1).max(1000).default(10),
      })
      .prefault({}),
  })
  .prefault({});

export const bridgeSchema = z
  .object({
    /** OPENCLAW_BRIDGE_ENABLED */
    enabled: z.boolean().default(false),
    /** OPENCLAW_BRIDGE_DEVICE_TOKEN: a static token; the client names its scopes in X-OpenClaw-Scopes. */
    deviceToken: z.string().min(16).optional(),
    /** OPENCLAW_BRIDGE_ALLOWED_DEVICE_IDS: restricts which device ids may use the static token. */
    allowedDeviceIds: z.array(z.string().min(1)).default([]),
    /** Requests per device per minute; more get 429 with Retry-After. */
    rateLimitPerMinute: z.number().int().min(1).max(100_000).default(120),
    /** Largest decoded file in /bridge/deliver. */
    maxFileBytes: z
      .number()
      .int()
      .min(1)
      .max(50 * 1024 * 1024)
      .default(8 * 1024 * 1024),
  })
  .prefault({});

export type SecurityConfig = z.output<typeof securitySchema>;
export type BridgeConfig = z.output<typeof bridgeSchema>;
