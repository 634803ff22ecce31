// Admin API for pairing and devices (used by `clawgate pair` and `clawgate devices`). Every route passes
// AdminAuth; tokens appear only in the one answer that creates them.

import type { ExtensionHost } from "../gateway/host.ts";
import { readJsonObject } from "../http/json-body.ts";
import { sendError, sendJson } from "../http/respond.ts";
import type { Handler } from "../http/router.ts";
import { publicDevice } from "./devices.ts";
import { qrCodes } from "./qr.ts";
import { parseScopes } from "./scopes.ts";
import { describeApproval, type PairingService } from "./service.ts";

export function registerAdminPairingRoutes(gw: ExtensionHost, pairing: PairingService) {
  const route = (method: string, path: string, handler: Handler) =>
    gw.adminRoutes.add(method, path, handler, { bodyLimitBytes: 16 * 1024 });
  const body = (raw: Buffer) => readJsonObject(raw, { emptyIsObject: true }) ?? {};

  route("POST", "/admin/api/pair", async (_req, res, ctx) => {
    const setup = await pairing.createSetup("admin-api");
    const qr =
      body(ctx.body).qr === true
        ? await (await qrCodes()).toString(setup.code, { type: "utf8", margin: 2 })
        : undefined;
    sendJson(res, 200, { ok: true, ...setup, qr });
  });
  // The console shows a setup code as a QR image: an SVG made here, so no page script draws it.
  route("GET", "/admin/api/pair/qr", async (_req, res, { url }) => {
    const code = url.searchParams.get("code") ?? "";
    if (!/^[ -~]{1,512}$/.test(code))
      return sendError(res, 400, "give ?code=<setup code from POST /admin/api/pair>");
    const svg = await (await qrCodes()).toString(code, { type: "svg", margin: 2 });
    res.writeHead(200, {
      "content-type": "image/svg+xml",
      "content-length": Buffer.byteLength(svg),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    });
    res.end(svg);
  });
  route("GET", "/admin/api/pair/pending", async (_req, res) => {
    sendJson(res, 200, { ok: true, items: await pairing.pending() });
  });
  route("POST", "/admin/api/pair/approve", async (_req, res, ctx) => {
    const b = body(ctx.body);
    if (typeof b.id !== "string" || !b.id)
      return sendError(res, 400, 'give {"id":"<request id, DM code or latest>"}');
    const { scopes, unknown } = parseScopes(b.scopes as string | string[] | undefined);
    if (unknown.length) return sendError(res, 400, `unknown scope(s): ${unknown.join(", ")}`);
    const approved = await pairing.approve(b.id, "admin-api", scopes);
    sendJson(res, 200, {
      ok: true,
      kind: approved.kind,
      id: approved.kind === "dm" ? approved.request.code : approved.request.id,
      deviceId: approved.kind === "device" ? approved.request.deviceId : undefined,
      message: describeApproval(approved),
    });
  });
  route("POST", "/admin/api/pair/reject", async (_req, res, ctx) => {
    const b = body(ctx.body);
    if (typeof b.id !== "string" || !b.id)
      return sendError(res, 400, 'give {"id":"<request id or DM code>"}');
    const r = await pairing.reject(b.id);
    sendJson(res, 200, { ok: true, kind: r.kind });
  });
  route("POST", "/admin/api/pair/cleanup", async (_req, res) => {
    sendJson(res, 200, { ok: true, ...(await pairing.cleanup()) });
  });
  route("GET", "/admin/api/pair/allowlist", async (_req, res) => {
    sendJson(res, 200, { ok: true, entries: await pairing.dm.allowlist() });
  });
  route("POST", "/admin/api/pair/allowlist/remove", async (_req, res, ctx) => {
    const b = body(ctx.body);
    if (typeof b.channel !== "string" || typeof b.senderId !== "string")
      return sendError(res, 400, 'give {"channel":"telegram","senderId":"123"}');
    const removed = await pairing.dm.removeFromAllowlist(b.channel, b.senderId);
    if (!removed) return sendError(res, 404, `${b.channel}:${b.senderId} is not on the paired allowlist`);
    sendJson(res, 200, { ok: true });
  });
  route("GET", "/admin/api/devices", async (_req, res) => {
    sendJson(res, 200, { ok: true, devices: (await pairing.devices.listDevices()).map(publicDevice) });
  });
  route("POST", "/admin/api/devices/:id/revoke", async (_req, res, ctx) => {
    const b = body(ctx.body);
    const tokenId = typeof b.tokenId === "string" ? b.tokenId : undefined;
    const device = await pairing.devices.revoke(ctx.params.id!, tokenId);
    if (!device)
      return sendError(res, 404, `no device ${ctx.params.id}${tokenId ? ` with token ${tokenId}` : ""}`);
    sendJson(res, 200, { ok: true, device: publicDevice(device) });
  });
  route("POST", "/admin/api/devices/:id/rotate", async (_req, res, ctx) => {
    const b = body(ctx.body);
    const ttl = b.ttlSec;
    if (ttl !== undefined && (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 60 || ttl > 86_400))
      return sendError(res, 400, "ttlSec must be a whole number from 60 to 86400");
    const overlap = b.overlapSec;
    if (
      overlap !== undefined &&
      (typeof overlap !== "number" || !Number.isInteger(overlap) || overlap < 0 || overlap > 3600)
    )
      return sendError(res, 400, "overlapSec must be a whole number from 0 to 3600");
    const issued = await pairing.devices.issueToken(ctx.params.id!, {
      ttlMs: ttl === undefined ? undefined : ttl * 1000,
      overlapMs: overlap === undefined ? undefined : overlap * 1000,
    });
    if (!issued) return sendError(res, 404, `no active device ${ctx.params.id} (unknown or revoked)`);
    sendJson(res, 200, { ok: true, ...issued });
  });
}
