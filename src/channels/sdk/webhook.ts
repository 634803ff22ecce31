// The shape every JSON webhook channel repeats: verify the signature over the raw body, parse it as a JSON
// object, normalize it into events, ingest them (durable before the platform hears 200), acknowledge. A
// refusal never reaches the agent: a bad signature is answered before the body is even parsed.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InboundEvent } from "../../core/event.ts";
import { sendError } from "../../http/respond.ts";
import { parseJsonObject } from "../shared/json-body.ts";
import type { ChannelContext, WebhookRoute } from "../types.ts";
import type { HealthTracker } from "./health.ts";

export type Verdict = { ok: true } | { ok: false; status: number; reason: string };

export interface JsonWebhookSpec {
  path: string;
  /** Largest body accepted (413 above it). */
  bodyLimitBytes?: number;
  /** Checks the request against the channel's secret: a refusal is answered with its status (401/403). */
  verify(req: IncomingMessage, body: Buffer): Verdict;
  /**
   * The events a verified JSON object carries, in order, or the reason it is unreadable (a 400). Events the
   * channel skips (an unsupported kind) are left out; skipped parts are the channel's to log.
   */
  normalize(payload: Record<string, unknown>): Promise<InboundEvent[] | { refuse: string }>;
  /** Answers the platform once every event is durable (the status and body it expects). */
  ack(res: ServerResponse): void;
}

/** A POST route that runs verify → parse → normalize → ingest → ack, counting each event as inbound. */
export function jsonWebhookRoute(
  spec: JsonWebhookSpec,
  ctx: Pick<ChannelContext, "ingest">,
  health: HealthTracker,
): WebhookRoute {
  return {
    method: "POST",
    path: spec.path,
    ...(spec.bodyLimitBytes ? { bodyLimitBytes: spec.bodyLimitBytes } : {}),
    handler: async (req, res, { body }) => {
      const verdict = spec.verify(req, body);
      if (!verdict.ok) return sendError(res, verdict.status, verdict.reason);
      const payload = parseJsonObject(body);
      if (!payload) return sendError(res, 400, "body is not a JSON object");
      const events = await spec.normalize(payload);
      if (!Array.isArray(events)) return sendError(res, 400, events.refuse);
      for (const _ of events) health.inbound();
      // Ingested together, so one group commit covers the webhook; the calls are made in order, so lanes keep it.
      await Promise.all(events.map((e) => ctx.ingest(e)));
      spec.ack(res);
    },
  };
}
