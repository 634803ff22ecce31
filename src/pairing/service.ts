// One place for pairing decisions, shared by the /pair chat command, the admin API (CLI) and the bridge
// handshake: device setup codes and their approval queue, and DM pairing codes.

import type { OutboundMessage } from "../channels/types.ts";
import type { DeliveryAddress } from "../core/event.ts";
import type { ExtensionHost } from "../gateway/host.ts";
import { HttpError } from "../http/errors.ts";
import { DeviceRegistry, type PairRequest, publicRequest } from "./devices.ts";
import { type DmPairing, type DmPairingRequest, looksLikeDmCode, publicDmRequest } from "./dm-pairing.ts";
import type { Scope } from "./scopes.ts";
import { encodeSetupCode, setupUrlProblem } from "./setup-code.ts";

/** A refusal whose message tells the admin what to change. */
export class PairingError extends HttpError {
  constructor(message: string, status = 400) {
    super(status, message);
    this.name = "PairingError";
  }
}

export interface SetupCode {
  code: string;
  url: string;
  /** Opens the gateway's pairing page in a browser with the code (in the fragment: never sent to a server). */
  pairUrl: string;
  expiresAtMs: number;
}

export type Approved = { kind: "device"; request: PairRequest } | { kind: "dm"; request: DmPairingRequest };

export class PairingService {
  readonly devices: DeviceRegistry;
  readonly dm: DmPairing;
  readonly #gw: ExtensionHost;

  constructor(gw: ExtensionHost, dm: DmPairing) {
    this.#gw = gw;
    const p = gw.config.security.pairing;
    this.devices = new DeviceRegistry(gw.kv, {
      tokenTtlMs: p.tokenTtlSec * 1000,
      overlapMs: p.rotationOverlapSec * 1000,
    });
    this.dm = dm;
  }

  /** The URL devices are told to connect to. */
  setupUrl(): string {
    const c = this.#gw.config;
    return (c.security.pairing.publicUrl ?? c.server.publicBaseUrl ?? this.#gw.url()).replace(/\/+$/, "");
  }

  async createSetup(by: string, origin?: DeliveryAddress): Promise<SetupCode> {
    if (!this.#gw.config.bridge.enabled)
      throw new PairingError(
        "Device pairing needs the bridge API: set OPENCLAW_BRIDGE_ENABLED=1 (or bridge.enabled) and restart.",
        409,
      );
    const url = this.setupUrl();
    const problem = setupUrlProblem(url);
    if (problem) throw new PairingError(`Cannot create a setup code: ${problem}.`, 409);
    const ttlMs = this.#gw.config.security.pairing.bootstrapTtlSec * 1000;
    const { token, expiresAtMs } = await this.devices.createBootstrap(ttlMs, by, origin);
    const code = encodeSetupCode({ url, bootstrapToken: token, expiresAtMs });
    return { code, url, pairUrl: `${url}/pair#code=${code}`, expiresAtMs };
  }

  /** Device requests and DM codes waiting for an admin, oldest first. */
  async pending() {
    const [devices, dms] = await Promise.all([this.devices.pendingRequests(), this.dm.pending()]);
    return [...devices.map(publicRequest), ...dms.map(publicDmRequest)].sort(
      (a, b) => a.createdAt - b.createdAt,
    );
  }

  async #resolve(idOrLatest: string): Promise<string | undefined> {
    if (idOrLatest.toLowerCase() !== "latest") return idOrLatest;
    return (await this.pending()).at(-1)?.id;
  }

  async approve(idOrLatest: string, by: string, scopes?: Scope[]): Promise<Approved> {
    const id = await this.#resolve(idOrLatest);
    if (!id) throw new PairingError("Nothing is waiting for approval.", 404);
    if (looksLikeDmCode(id) && !id.startsWith("req_")) {
      const request = await this.dm.approve(id, by);
      if (!request)
        throw new PairingError(`No pending pairing code ${id.toUpperCase()} (it may have expired).`, 404);
      return { kind: "dm", request };
    }
    const request = await this.devices.approve(id, by, scopes);
    if (!request)
      throw new PairingError(`No pending device request ${id}. Send /pair pending to see the queue.`, 404);
    return { kind: "device", request };
  }

  async reject(id: string): Promise<Approved> {
    if (looksLikeDmCode(id) && !id.startsWith("req_")) {
      const request = await this.dm.reject(id);
      if (!request) throw new PairingError(`No pending pairing code ${id.toUpperCase()}.`, 404);
      return { kind: "dm", request };
    }
    const request = await this.devices.reject(id);
    if (!request) throw new PairingError(`No pending device request ${id}.`, 404);
    return { kind: "device", request };
  }

  async cleanup() {
    const devices = await this.devices.cleanup();
    const dmCodes = await this.dm.cleanup();
    return { ...devices, dmCodes };
  }

  /** Tells the chat where /pair was sent that a device is waiting, with approve/reject buttons. */
  async notifyOrigin(request: PairRequest) {
    if (!request.origin) return;
    const message: OutboundMessage = {
      kind: "notice",
      text: `Device "${request.name}"${request.platform ? ` (${request.platform})` : ""} asks to pair${request.requestedScopes.length ? ` with scopes ${request.requestedScopes.join(", ")}` : ""}. Approve with /pair approve ${request.id} or reject with /pair reject ${request.id}.`,
      buttons: [
        { label: "Approve", value: `pair:approve:${request.id}`, style: "primary" },
        { label: "Reject", value: `pair:reject:${request.id}`, style: "danger" },
      ],
    };
    await this.#gw.services
      .deliver(request.origin, message, `pair:request:${request.id}`)
      .catch((err: Error) => {
        this.#gw.log.warn({ err: err.message }, "could not tell the pairing chat about a device request");
      });
  }
}

export function describeApproval(a: Approved): string {
  if (a.kind === "dm")
    return `Approved ${a.request.senderName ?? a.request.senderId} on ${a.request.channel}: they can talk to the assistant now.`;
  return `Approved device "${a.request.name}" as ${a.request.deviceId} with scopes ${(a.request.grantedScopes ?? []).join(", ")}. It receives its token on its next poll.`;
}
