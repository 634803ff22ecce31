// The bridge API (docs/security.md#bridge-api): served under /bridge/* and /openclaw/bridge/* on the main
// listener when bridge.enabled (OPENCLAW_BRIDGE_ENABLED) is set.

import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { MediaItem } from "../channels/types.ts";
import type { DeliveryAddress } from "../core/event.ts";
import { addressFromSessionKey } from "../core/session-key.ts";
import type { ExtensionHost } from "../gateway/host.ts";
import { readJsonObject } from "../http/json-body.ts";
import { sendError, sendJson } from "../http/respond.ts";
import type { Handler } from "../http/router.ts";
import type { Scope } from "../pairing/scopes.ts";
import type { PairingService } from "../pairing/service.ts";
import { FailureLimiter } from "../security/failure-limiter.ts";
import type { BridgeAuth, BridgeCaller } from "./auth.ts";
import { fingerprint, type Idempotency, legacyFingerprint } from "./idempotency.ts";
import type { BridgeJobs } from "./jobs.ts";
import { handshake, rotate } from "./pairing-routes.ts";
import { type BridgeJob, bridgeRunners } from "./runner.ts";

export const LIMITS = {
  inputsBytes: 64 * 1024,
  textChars: 8000,
  files: 10,
  submitBodyBytes: 128 * 1024,
  deliverBodyBytes: 25 * 1024 * 1024,
  handshakeBodyBytes: 8 * 1024,
};

export const BRIDGE_PREFIXES = ["/bridge", "/openclaw/bridge"];

export interface BridgeDeps {
  gw: ExtensionHost;
  pairing: PairingService;
  auth: BridgeAuth;
  jobs: BridgeJobs;
  idem: Idempotency;
}

export type Json = Record<string, unknown>;

export const parseObject = (body: Buffer): Json | undefined => readJsonObject(body, { emptyIsObject: true });

export const str = (v: unknown, max: number): string | undefined =>
  typeof v === "string" && v.trim() && v.length <= max ? v.trim() : undefined;

export function registerBridgeRoutes(deps: BridgeDeps) {
  const { gw } = deps;
  const handshakeFailures = new FailureLimiter(gw.config.security.pairing.handshakePerMinute, 60_000);
  const { auth } = deps;
  // Every route authenticates from the headers before its body is read (src/http/router.ts `authorize`), so an
  // unauthenticated caller never makes the gateway buffer a body; the handshake, whose credential is in the
  // body, is refused up front while its address is over the failure limit.
  const route = (scope: Scope | undefined, opts: { bodyLimitBytes?: number } = {}) => ({
    kind: "bridge" as const,
    authorize: auth.authorizer(scope),
    ...opts,
  });
  for (const prefix of BRIDGE_PREFIXES) {
    gw.routes.add("GET", `${prefix}/health`, health(deps), route(undefined));
    gw.routes.add("GET", `${prefix}/config`, configRead(deps), route("config:read"));
    gw.routes.add("GET", `${prefix}/jobs/:id`, jobStatus(deps), route("job:status"));
    gw.routes.add(
      "POST",
      `${prefix}/submit`,
      submit(deps),
      route("job:submit", { bodyLimitBytes: LIMITS.submitBodyBytes }),
    );
    gw.routes.add(
      "POST",
      `${prefix}/deliver`,
      deliver(deps),
      route("delivery:send", { bodyLimitBytes: LIMITS.deliverBodyBytes }),
    );
    gw.routes.add("POST", `${prefix}/handshake`, handshake(deps, handshakeFailures), {
      kind: "bridge",
      authorize: (req) =>
        handshakeFailures.refusal(
          req.socket.remoteAddress ?? "unknown",
          "failed pairing attempts from this address",
        ) ?? {
          ok: true,
        },
      bodyLimitBytes: LIMITS.handshakeBodyBytes,
    });
    gw.routes.add("POST", `${prefix}/token/rotate`, rotate(deps), route(undefined, { bodyLimitBytes: 4096 }));
  }
}

function health({ gw, jobs }: BridgeDeps): Handler {
  return async (_req, res) => {
    sendJson(res, 200, {
      ok: true,
      version: gw.services.version,
      uptime_sec: Math.round((Date.now() - gw.services.startedAt) / 1000),
      job_queue_depth: jobs.depth,
    });
  };
}

function configRead({ gw }: BridgeDeps): Handler {
  return async (_req, res) => {
    sendJson(res, 200, {
      ok: true,
      version: gw.services.version,
      channels: gw.services
        .adapters()
        .map((a) => ({ channel: a.channel, account: a.account, capabilities: a.capabilities })),
      limits: { inputs_bytes: LIMITS.inputsBytes, text_chars: LIMITS.textChars, files: LIMITS.files },
    });
  };
}

function jobStatus({ jobs }: BridgeDeps): Handler {
  return async (_req, res, { params, caller: c }) => {
    const caller = c as BridgeCaller;
    const job = await jobs.get(params.id!);
    if (!job || job.deviceId !== caller.deviceId)
      return sendError(res, 404, `no job ${params.id} for this device`);
    sendJson(res, 200, {
      ok: true,
      prompt_id: job.id,
      trace_id: job.traceId,
      status: job.status,
      result_text: job.resultText,
      files: job.files,
      error: job.error,
      delivered: job.delivered ?? false,
    });
  };
}

/** Parses a session-key target and checks the channel account exists. */
function resolveTarget(gw: ExtensionHost, raw: unknown, field: string): DeliveryAddress | string | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  if (typeof raw !== "string") return `${field} must be a session key like telegram:123456 or slack:T1:C123`;
  const address = addressFromSessionKey(raw);
  if (!address) return `${field} "${raw}" is not a session key (channel:account:conversation[:thread])`;
  if (!gw.services.adapter(address.channel, address.account))
    return `${field}: no channel ${address.channel}/${address.account} is configured`;
  return address;
}

/** Runs `work` once per (device, route, idempotency_key); repeats get the stored answer with deduped:true. */
async function once(
  deps: BridgeDeps,
  res: ServerResponse,
  caller: BridgeCaller,
  route: string,
  json: Json,
  work: () => Promise<{ status: number; body: Json }>,
) {
  const key = json.idempotency_key;
  const scope = `${caller.deviceId}:${route}`;
  const fp = fingerprint(json);
  const begin = await deps.idem.begin(scope, key as string, fp, legacyFingerprint(json));
  if (begin.kind === "replay") return sendJson(res, begin.status, { ...begin.body, deduped: true });
  if (begin.kind === "mismatch")
    return sendError(res, 409, "idempotency_key was already used with a different request; use a new key");
  if (begin.kind === "in-progress") {
    res.setHeader("retry-after", "1");
    return sendError(res, 409, "a request with this idempotency_key is still being processed; retry shortly");
  }
  let result: { status: number; body: Json };
  try {
    result = await work();
  } catch (err) {
    await deps.idem.abandon(scope, key as string);
    throw err;
  }
  await deps.idem.finish(scope, key as string, fp, result.status, result.body);
  sendJson(res, result.status, result.body);
}

function requireKey(res: ServerResponse, json: Json): boolean {
  const key = json.idempotency_key;
  if (typeof key !== "string" || key.length < 1 || key.length > 200) {
    sendError(res, 400, "idempotency_key is required: a string of 1-200 characters, unique per request");
    return false;
  }
  return true;
}

function submit(deps: BridgeDeps): Handler {
  const { gw, jobs } = deps;
  return async (_req, res, { body, caller: c }) => {
    const caller = c as BridgeCaller;
    const json = parseObject(body);
    if (!json) return sendError(res, 400, "body must be a JSON object");
    if (!requireKey(res, json)) return;
    const inputs = json.inputs ?? {};
    if (typeof inputs !== "object" || inputs === null || Array.isArray(inputs))
      return sendError(res, 400, "inputs must be a JSON object");
    const inputsBytes = Buffer.byteLength(JSON.stringify(inputs));
    if (inputsBytes > LIMITS.inputsBytes)
      return sendError(res, 413, `inputs are ${inputsBytes} bytes; the limit is ${LIMITS.inputsBytes}`);
    const text = typeof (inputs as Json).text === "string" ? ((inputs as Json).text as string) : "";
    if (text.length > LIMITS.textChars)
      return sendError(
        res,
        413,
        `inputs.text is ${text.length} characters; the limit is ${LIMITS.textChars}`,
      );
    const timeoutSec = json.timeout_sec ?? 300;
    if (
      typeof timeoutSec !== "number" ||
      !Number.isInteger(timeoutSec) ||
      timeoutSec < 1 ||
      timeoutSec > 3600
    )
      return sendError(res, 400, "timeout_sec must be a whole number from 1 to 3600");
    if (json.template_id !== undefined && !str(json.template_id, 200))
      return sendError(res, 400, "template_id must be a non-empty string");
    const deliveryTarget = resolveTarget(gw, json.delivery_target, "delivery_target");
    if (typeof deliveryTarget === "string") return sendError(res, 400, deliveryTarget);
    const target = resolveTarget(gw, json.target, "target");
    if (typeof target === "string") return sendError(res, 400, target);
    const job: BridgeJob = {
      id: `bj_${randomUUID().replace(/-/g, "").slice(0, 20)}`,
      templateId: str(json.template_id, 200),
      inputs: inputs as Json,
      traceId: str(json.trace_id, 128) ?? randomUUID(),
      deviceId: caller.deviceId,
      sessionId: str(json.session_id, 200),
      target,
      deliveryTarget,
      timeoutMs: timeoutSec * 1000,
    };
    const runner = bridgeRunners(gw).pick(job);
    if (!runner)
      return sendError(
        res,
        400,
        job.templateId
          ? `no runner accepts template jobs (template_id ${job.templateId}); enable the ComfyUI module`
          : "nothing to run: give inputs.text (or inputs.prompt) for the agent",
      );
    await once(deps, res, caller, "submit", json, async () => {
      await jobs.start(job, runner);
      return { status: 200, body: { ok: true, prompt_id: job.id, trace_id: job.traceId, status: "queued" } };
    });
  };
}

function deliver(deps: BridgeDeps): Handler {
  const { gw } = deps;
  const maxFileBytes = gw.config.bridge.maxFileBytes;
  return async (_req, res, { body, caller: c }) => {
    const caller = c as BridgeCaller;
    const json = parseObject(body);
    if (!json) return sendError(res, 400, "body must be a JSON object");
    if (!requireKey(res, json)) return;
    const target = resolveTarget(gw, json.target, "target");
    if (typeof target === "string") return sendError(res, 400, target);
    if (!target) return sendError(res, 400, "target is required: a session key like telegram:123456");
    const text = json.text ?? "";
    if (typeof text !== "string") return sendError(res, 400, "text must be a string");
    if (text.length > LIMITS.textChars)
      return sendError(res, 413, `text is ${text.length} characters; the limit is ${LIMITS.textChars}`);
    const rawFiles = json.files ?? [];
    if (!Array.isArray(rawFiles)) return sendError(res, 400, "files must be an array");
    if (rawFiles.length > LIMITS.files)
      return sendError(res, 413, `${rawFiles.length} files; the limit is ${LIMITS.files}`);
    const media: MediaItem[] = [];
    for (const [i, f] of rawFiles.entries()) {
      const file = f as Json;
      const data =
        str(file?.data_base64, Number.MAX_SAFE_INTEGER) ?? str(file?.data, Number.MAX_SAFE_INTEGER);
      const filename = str(file?.filename, 200) ?? str(file?.name, 200) ?? `file-${i + 1}`;
      const mime = str(file?.mime, 100) ?? str(file?.content_type, 100) ?? "application/octet-stream";
      if (!data || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data))
        return sendError(res, 400, `files[${i}] needs data_base64 (the file's bytes in base64)`);
      const size = Buffer.byteLength(data, "base64");
      if (size > maxFileBytes)
        return sendError(res, 413, `files[${i}] is ${size} bytes; the limit is ${maxFileBytes}`);
      media.push({ dataBase64: data, mime, filename: filename.replace(/[/\\]/g, "_") });
    }
    if (!text.trim() && media.length === 0) return sendError(res, 400, "give text or files to deliver");
    await once(deps, res, caller, "deliver", json, async () => {
      const r = await gw.services.deliver(
        target,
        { text, media: media.length ? media : undefined },
        `bridge:deliver:${caller.deviceId}:${fingerprint(json.idempotency_key)}`,
      );
      return { status: 200, body: { ok: true, status: "queued", delivery_id: r.id } };
    });
  };
}
