// Who is calling the bridge: X-OpenClaw-Device-Id + X-OpenClaw-Device-Token, checked against paired devices'
// token hashes, or against the static OPENCLAW_BRIDGE_DEVICE_TOKEN (scopes then come from X-OpenClaw-Scopes,
// and OPENCLAW_BRIDGE_ALLOWED_DEVICE_IDS may restrict the ids). Failures are rate-limited per address; every
// authenticated device has its own request budget. Everything is decided from the headers, before the body.
import type { IncomingMessage } from "node:http";
import type { BridgeConfig } from "../config/security.ts";
import { SlidingWindowLimiter } from "../core/rate-limit.ts";
import type { Authorize, Refusal } from "../http/router.ts";
import type { DeviceRegistry } from "../pairing/devices.ts";
import { parseScopes, type Scope } from "../pairing/scopes.ts";
import { FailureLimiter, retryAfterSec } from "../security/failure-limiter.ts";
import { safeEqualString } from "../security/hmac.ts";

export interface BridgeCaller {
  deviceId: string;
  scopes: Scope[];
  kind: "paired" | "static";
  tokenId?: string;
}

const DEVICE_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

const REASONS = {
  "unknown-device": "device token is wrong or the device is not paired",
  "wrong-token": "device token is wrong or the device is not paired",
  expired: "device token has expired: rotate it before it expires (POST /bridge/token/rotate) or pair again",
  revoked: "device token was revoked: pair the device again",
} as const;

export class BridgeAuth {
  readonly #config: BridgeConfig;
  readonly #devices: DeviceRegistry;
  readonly #failures = new FailureLimiter(20, 60_000);
  readonly #budget: SlidingWindowLimiter;

  constructor(config: BridgeConfig, devices: DeviceRegistry) {
    this.#config = config;
    this.#devices = devices;
    this.#budget = new SlidingWindowLimiter(config.rateLimitPerMinute, 60_000);
  }

  /**
   * The bridge routes' `authorize` step (src/http/router.ts): from the headers alone, before any body is read.
   * The caller when authenticated, holding `scope` (if given) and within budget; else the refusal.
   */
  authorizer(scope?: Scope): Authorize {
    return async (req) => {
      const r = await this.check(req, scope);
      return r.ok ? { ok: true, caller: r.caller } : r;
    };
  }

  async check(req: IncomingMessage, scope?: Scope): Promise<{ ok: true; caller: BridgeCaller } | Refusal> {
    const ip = req.socket.remoteAddress ?? "unknown";
    const blocked = this.#failures.refusal(ip, "failed bridge authentications from this address");
    if (blocked) return blocked;
    const deviceId = header(req, "x-openclaw-device-id");
    const token = header(req, "x-openclaw-device-token");
    if (!deviceId || !token) {
      this.#failures.fail(ip);
      return refuse(401, "bridge calls need X-OpenClaw-Device-Id and X-OpenClaw-Device-Token headers");
    }
    if (!DEVICE_ID.test(deviceId)) {
      this.#failures.fail(ip);
      return refuse(400, "X-OpenClaw-Device-Id must be 1-128 of A-Z a-z 0-9 _ . : -");
    }
    const caller = await this.#identify(deviceId, token, req, ip);
    if (!caller.ok) return caller;
    if (scope && !caller.caller.scopes.includes(scope))
      return refuse(403, `this device lacks the ${scope} scope`, { extra: { required_scope: scope } });
    const budget = this.#budget.take(caller.caller.deviceId, Date.now());
    if (!budget.ok)
      return refuse(
        429,
        `over this device's budget of ${this.#config.rateLimitPerMinute} requests per minute`,
        {
          headers: { "retry-after": retryAfterSec(budget.retryAfterMs) },
        },
      );
    return caller;
  }

  async #identify(
    deviceId: string,
    token: string,
    req: IncomingMessage,
    ip: string,
  ): Promise<{ ok: true; caller: BridgeCaller } | Refusal> {
    const staticToken = this.#config.deviceToken;
    if (staticToken && safeEqualString(token, staticToken)) {
      const allowed = this.#config.allowedDeviceIds;
      if (allowed.length > 0 && !allowed.includes(deviceId)) {
        this.#failures.fail(ip);
        return refuse(403, `device ${deviceId} is not in OPENCLAW_BRIDGE_ALLOWED_DEVICE_IDS`);
      }
      const { scopes, unknown } = parseScopes(header(req, "x-openclaw-scopes"));
      if (unknown.length) return refuse(400, `unknown scope(s) in X-OpenClaw-Scopes: ${unknown.join(", ")}`);
      return { ok: true, caller: { deviceId, scopes, kind: "static" } };
    }
    const result = await this.#devices.verify(deviceId, token);
    if (!result.ok) {
      this.#failures.fail(ip);
      return refuse(401, REASONS[result.reason], { extra: { reason: result.reason } });
    }
    return {
      ok: true,
      caller: { deviceId, scopes: result.device.scopes, kind: "paired", tokenId: result.tokenId },
    };
  }
}

function refuse(status: number, error: string, more: Pick<Refusal, "headers" | "extra"> = {}): Refusal {
  return { ok: false, status, error, ...more };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() || undefined;
}
