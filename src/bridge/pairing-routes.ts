// The bridge API's pairing routes: the handshake (a device trades its setup code for a token) and token
// rotation. Registered by routes.ts with the rest of the bridge API.
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendError, sendJson } from "../http/respond.ts";
import type { Handler } from "../http/router.ts";
import { chatUrl } from "../pairing/chat-token.ts";
import { parseScopes } from "../pairing/scopes.ts";
import { decodeSetupCode } from "../pairing/setup-code.ts";
import type { FailureLimiter } from "../security/failure-limiter.ts";
import type { BridgeCaller } from "./auth.ts";
import { type BridgeDeps, type Json, parseObject, str } from "./routes.ts";

export function handshake(deps: BridgeDeps, failures: FailureLimiter): Handler {
  const { pairing } = deps;
  return async (req, res, { body }) => {
    // The route's authorize step already refused a blocked address before the body was read.
    const ip = req.socket.remoteAddress ?? "unknown";
    const refuse = (status: number, error: string, extra: Json = {}) => {
      failures.fail(ip);
      sendError(res, status, error, extra);
    };
    const json = parseObject(body);
    if (!json) return refuse(400, "body must be a JSON object");

    // A poll: the device asks whether an admin has answered.
    if (json.request_id !== undefined) {
      const id = str(json.request_id, 64);
      const pollToken = str(json.poll_token, 200);
      if (!id || !pollToken) return refuse(400, "a poll needs request_id and poll_token");
      const r = await pairing.devices.poll(id, pollToken);
      switch (r.status) {
        case "unknown":
          return refuse(404, "no such pairing request (expired, cleaned up, or a wrong poll_token)", {
            status: "unknown",
          });
        case "pending":
          return sendJson(res, 202, {
            ok: true,
            status: "pending",
            request_id: id,
            poll_after_sec: 2,
            expires_at_ms: r.request.expiresAtMs,
          });
        case "rejected":
          return sendError(res, 403, "an admin rejected this device", { status: "rejected" });
        case "collected":
          return sendError(res, 410, "this request's token was already collected; pair again", {
            status: "collected",
          });
        case "approved":
          return sendJson(res, 200, {
            ok: true,
            status: "approved",
            device_id: r.issued.deviceId,
            token_id: r.issued.tokenId,
            token: r.issued.token,
            scopes: r.issued.scopes,
            expires_at_ms: r.issued.expiresAt,
            // Devices granted `chat` open the web app with this (docs/webchat-api.md).
            chat_url: chatUrl(pairing.setupUrl(), r.issued),
          });
      }
    }

    // A new handshake: present the bootstrap token from the setup code.
    const token =
      str(json.bootstrap_token, 200) ??
      str(json.bootstrapToken, 200) ??
      (typeof json.setup_code === "string" ? decodeSetupCode(json.setup_code)?.bootstrapToken : undefined);
    if (!token) return refuse(400, "give bootstrap_token (or setup_code) from the setup code");
    const name = json.name === undefined ? "unnamed device" : str(json.name, 64);
    if (!name) return refuse(400, "name must be a string of 1-64 characters");
    const platform = json.platform === undefined ? undefined : str(json.platform, 32);
    const { scopes, unknown, invalid } = parseScopes(json.scopes);
    if (invalid) return refuse(400, invalid);
    if (unknown.length) return refuse(400, `unknown scope(s): ${unknown.join(", ")}`);
    const boot = await pairing.devices.takeBootstrap(token);
    if (!boot)
      return refuse(
        401,
        "bootstrap token is unknown, already used or expired: ask an admin for a new setup code (/pair)",
      );
    const { request, pollToken } = await pairing.devices.createRequest({
      name,
      platform,
      requestedScopes: scopes,
      origin: boot.origin,
      address: ip,
    });
    await pairing.notifyOrigin(request);
    sendJson(res, 202, {
      ok: true,
      status: "pending",
      request_id: request.id,
      poll_token: pollToken,
      poll_after_sec: 2,
      expires_at_ms: request.expiresAtMs,
    });
  };
}

export function rotate({ gw, pairing }: BridgeDeps): Handler {
  return async (_req: IncomingMessage, res: ServerResponse, { body, caller: c }) => {
    const caller = c as BridgeCaller;
    if (caller.kind !== "paired")
      return sendError(
        res,
        400,
        "only paired devices have tokens to rotate; the static token is set by the operator",
      );
    const json = parseObject(body) ?? {};
    const ttl = json.ttl_sec;
    if (ttl !== undefined && (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 60 || ttl > 86_400))
      return sendError(res, 400, "ttl_sec must be a whole number from 60 to 86400");
    const issued = await pairing.devices.issueToken(caller.deviceId, { ttlMs: ttl ? ttl * 1000 : undefined });
    if (!issued) return sendError(res, 401, "device token was revoked: pair the device again");
    sendJson(res, 200, {
      ok: true,
      device_id: issued.deviceId,
      token_id: issued.tokenId,
      token: issued.token,
      scopes: issued.scopes,
      expires_at_ms: issued.expiresAt,
      previous_token_valid_until_ms: Date.now() + gw.config.security.pairing.rotationOverlapSec * 1000,
    });
  };
}
