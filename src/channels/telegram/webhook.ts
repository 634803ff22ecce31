// Webhook mode: Telegram POSTs each update with X-Telegram-Bot-Api-Secret-Token; it gets its 200 only after the
// update is committed to the inbox (any other answer makes Telegram retry, and the inbox drops the repeat).

import { sendError, sendJson } from "../../http/respond.ts";
import { safeEqualString } from "../../security/hmac.ts";
import type { WebhookRoute } from "../types.ts";

export function telegramWebhookRoute(o: {
  path: string;
  secret: string;
  /** Commits the update; one it cannot read is recorded and acknowledged, so Telegram stops resending it. */
  handle(update: unknown): Promise<void>;
  onError(err: Error): void;
}): WebhookRoute {
  return {
    method: "POST",
    path: o.path,
    bodyLimitBytes: 1_048_576,
    handler: async (req, res, { body }) => {
      const presented = req.headers["x-telegram-bot-api-secret-token"];
      if (typeof presented !== "string" || !safeEqualString(presented, o.secret)) {
        return sendError(res, 401, "missing or wrong X-Telegram-Bot-Api-Secret-Token");
      }
      let update: { update_id?: unknown } | null;
      try {
        update = JSON.parse(body.toString("utf8"));
      } catch {
        return sendError(res, 400, "body is not JSON");
      }
      if (!update || typeof update !== "object" || !Number.isInteger(update.update_id)) {
        return sendError(res, 400, "not a Telegram update: update_id is missing");
      }
      try {
        await o.handle(update);
      } catch (err) {
        o.onError(err as Error);
        return sendError(res, 500, "could not store the update; Telegram will retry");
      }
      sendJson(res, 200, { ok: true });
    },
  };
}
