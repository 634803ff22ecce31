// The security boundary as one GatewayExtension: DM pairing (the TrustGate), device pairing (/pair and the
// admin API), the bridge API (when bridge.enabled) and the async agent callbacks (when async is true).

import type { ExtensionHost, GatewayExtension } from "../gateway/host.ts";
import { allowlistGate } from "../gateway/trust-gate.ts";
import { registerAdminPairingRoutes } from "../pairing/admin-routes.ts";
import { DmPairing } from "../pairing/dm-pairing.ts";
import { registerPairCommand } from "../pairing/pair-command.ts";
import { PairingService } from "../pairing/service.ts";
import { type AsyncMode, startAsyncMode } from "../targets/openai/async-mode.ts";
import { BridgeAuth } from "./auth.ts";
import { Idempotency } from "./idempotency.ts";
import { BridgeJobs } from "./jobs.ts";
import { registerBridgeRoutes } from "./routes.ts";

export interface SecurityExtension extends GatewayExtension {
  /** Set after setup: the pairing service (tests, other modules). */
  pairing?: PairingService;
  asyncMode?: AsyncMode;
}

export function securityExtension(): SecurityExtension {
  let jobs: BridgeJobs | undefined;
  const ext: SecurityExtension = {
    name: "security",
    async setup(gw: ExtensionHost) {
      const dm = new DmPairing(
        gw.kv,
        (address, message, key, opts) => gw.services.deliver(address, message, key, opts),
        allowlistGate,
      );
      gw.trustGate.set(dm);
      const pairing = new PairingService(gw, dm);
      ext.pairing = pairing;
      registerPairCommand(gw.commands, gw.actions, pairing);
      registerAdminPairingRoutes(gw, pairing);
      if (gw.config.bridge.enabled) {
        jobs = new BridgeJobs(gw);
        registerBridgeRoutes({
          gw,
          pairing,
          auth: new BridgeAuth(gw.config.bridge, pairing.devices),
          jobs,
          idem: new Idempotency(gw.kv),
        });
      }
      if (gw.config.async) ext.asyncMode = await startAsyncMode(gw);
      gw.status.add(async () => {
        const waiting = (await pairing.pending()).length;
        return waiting ? `Pairing: ${waiting} request(s) waiting for an admin` : undefined;
      });
    },
    async stop() {
      await jobs?.stop();
      await ext.asyncMode?.stop();
    },
  };
  return ext;
}
