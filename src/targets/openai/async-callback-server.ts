// The callback listener of the async agent mode: POST /ocg/callback/<64 hex> on callbackHost:callbackPort.
// The callback listener of the async agent mode: POST /ocg/callback/<64 hex> on callbackHost:callbackPort.
// Checks, in this order, so nothing an attacker sends can burn a token: per-address failure limit (429), token
// shape (404), a signature header of the right shape — all three from the headers, before the body is read —
// then X-OCG-Signature = "sha256=" + hex HMAC-SHA256(raw body, callbackSecret) when a secret is set (401), a
// body naming another callback's token (401: see callbackBinding), body shape (400); then the token is
// consumed: unknown or used 404, expired 410. The reply goes to the original chat through the outbox, so it
// survives a restart like any other delivery.
import type { Logger } from "pino";
import type { ExtensionHost } from "../../gateway/host.ts";
import { sendError, sendJson } from "../../http/respond.ts";
import { type Handler, Router } from "../../http/router.ts";
import { HttpServer } from "../../http/server.ts";
import { FailureLimiter } from "../../security/failure-limiter.ts";
import { hmac, verifyDigest } from "../../security/hmac.ts";
import { CALLBACK_TOKEN, type CallbackTokens, callbackBinding } from "./async-callbacks.ts";

export const CALLBACK_BODY_LIMIT = 1024 * 1024;

/** The reply text of a callback body: `reply` is a string or {text|content}; content may be OpenAI parts. */
export function callbackText(body: unknown): { text: string; isError: boolean } | undefined {
  if (!body || typeof body !== "object") return undefined;
  const { reply, isError } = body as { reply?: unknown; isError?: unknown };
  let text: string | undefined;
  if (typeof reply === "string") text = reply;
  else if (reply && typeof reply === "object") {
    const r = reply as { text?: unknown; content?: unknown };
    if (typeof r.text === "string") text = r.text;
    else if (typeof r.content === "string") text = r.content;
    else if (Array.isArray(r.content))
      text = r.content
        .map((p) =>
          p && typeof p === "object" && typeof (p as { text?: unknown }).text === "string"
            ? (p as { text: string }).text
            : "",
        )
        .join("");
  }
  if (text === undefined) return undefined;
  return { text, isError: isError === true };
}

const BAD_SIGNATURE =
  "X-OCG-Signature is missing or wrong: sign the raw body with HMAC-SHA256(callbackSecret) as sha256=<hex>";

/** The hex digest of an `X-OCG-Signature: sha256=<64 hex>` header; undefined when it has another shape. */
function signatureHex(header: string | string[] | undefined): string | undefined {
  const m = typeof header === "string" ? /^sha256=([0-9a-fA-F]{64})$/.exec(header.trim()) : null;
  return m?.[1];
}

/** Errors are answered here so the server's generic handler never logs the URL, which holds the token. */
function guarded(log: Logger, handler: Handler): Handler {
  return async (req, res, ctx) => {
    try {
      await handler(req, res, ctx);
    } catch (err) {
      log.error({ err: (err as Error).message }, "async callback handler failed");
      if (!res.headersSent) sendError(res, 500, "internal error; see the gateway log");
    }
  };
}

export function createCallbackServer(gw: ExtensionHost, tokens: CallbackTokens, log: Logger): HttpServer {
  const secret = gw.config.callbackSecret;
  const failures = new FailureLimiter(30, 60_000);
  let warnedUnbound = false;
  const router = new Router();
  router.add(
    "GET",
    "/healthz",
    (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    },
    { kind: "health" },
  );
  router.add(
    "POST",
    "/ocg/callback/:token",
    guarded(log, async (req, res, { body, params }) => {
      const ip = req.socket.remoteAddress ?? "unknown";
      const token = params.token ?? "";
      if (secret) {
        const presented = signatureHex(req.headers["x-ocg-signature"]);
        if (!verifyDigest(hmac("sha256", secret, body), presented, "hex")) {
          failures.fail(ip);
          return sendError(res, 401, BAD_SIGNATURE);
        }
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        return sendError(res, 400, 'body must be JSON like {"reply":"…","isError":false}');
      }
      const binding = callbackBinding(parsed, token);
      if (binding === "mismatch") {
        failures.fail(ip);
        return sendError(
          res,
          401,
          "callbackToken in the body does not name this callback URL's token: a reply signed for one callback cannot answer another",
        );
      }
      if (binding === "unbound" && gw.config.callbackRequireToken) {
        failures.fail(ip);
        return sendError(
          res,
          401,
          'the body must name this callback\'s token ("callbackToken": "<token from X-OCG-Callback>"): callbackRequireToken is on',
        );
      }
      if (binding === "unbound" && secret && !warnedUnbound) {
        warnedUnbound = true;
        log.warn(
          'async callbacks are signed without "callbackToken" in the body: a captured signed reply could be posted to another callback URL; have the agent add "callbackToken": "<token from X-OCG-Callback>"',
        );
      }
      const reply = callbackText(parsed);
      if (!reply) return sendError(res, 400, "reply must be a string or an object with text or content");
      const consumed = await tokens.consume(token);
      if (consumed.kind === "unknown" || consumed.kind === "used") {
        failures.fail(ip);
        return sendError(res, 404, "unknown or already used callback token");
      }
      if (consumed.kind === "expired")
        return sendError(
          res,
          410,
          "this callback token has expired; the agent must answer within callbackTokenTTL",
        );
      const { record, id } = consumed;
      try {
        await gw.services.deliver(
          record.address,
          {
            text: reply.isError ? `⚠️ ${reply.text}` : reply.text || "(the agent returned an empty reply)",
            kind: reply.isError ? "error" : "reply",
          },
          `ocg-callback:${id}`,
          { historyRole: reply.isError ? "error" : "assistant" },
        );
      } catch (err) {
        log.warn(
          { err: (err as Error).message, session: record.sessionKey },
          "async callback could not be delivered",
        );
        return sendError(
          res,
          422,
          "the conversation's channel is no longer configured; the reply was dropped",
        );
      }
      log.debug({ session: record.sessionKey, event: record.eventId }, "async agent reply accepted");
      sendJson(res, 200, { ok: true });
    }),
    {
      kind: "callback",
      bodyLimitBytes: CALLBACK_BODY_LIMIT,
      // What the headers and the path can tell, before the body is read: the address's failures, the token's
      // shape, and a signature header of the right shape when a secret is set (the signature covers the body).
      authorize: (req, params) => {
        const ip = req.socket.remoteAddress ?? "unknown";
        const blocked = failures.refusal(ip, "failed callbacks from this address");
        if (blocked) return blocked;
        if (!CALLBACK_TOKEN.test(params.token ?? "")) {
          failures.fail(ip);
          return { ok: false, status: 404, error: "unknown callback token" };
        }
        if (secret && !signatureHex(req.headers["x-ocg-signature"])) {
          failures.fail(ip);
          return { ok: false, status: 401, error: BAD_SIGNATURE };
        }
        return { ok: true };
      },
    },
  );
  return new HttpServer(router, {
    host: gw.config.callbackHost ?? "0.0.0.0",
    port: gw.config.callbackPort ?? 3457,
    bodyLimitBytes: CALLBACK_BODY_LIMIT,
    requestTimeoutMs: gw.config.server.requestTimeoutMs,
    log,
  });
}
