// The shape every JSON webhook channel repeats: verify the signature over the raw body, parse it as a JSON
// object, normalize it into events, ingest them (durable before the platform hears 200), acknowledge. A
// refusal never reaches the agent: a bad signature is answered before the body is even parsed.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { InboundEvent } from "../../core/event.ts";
import { readJsonObject } from "../../http/json-body.ts";
import { sendError } from "../../http/respond.ts";
import type { ChannelContext, WebhookRoute } from "../types.ts";
import type { HealthTracker } from "./health.ts";

export type Verdict = { ok: true } | { ok: false; status: number; reason: string };

/** A request answered without events: a 400 with its reason, or the channel's own answer (a URL challenge). */
export type WebhookOutcome = { refuse: string } | { answer(res: ServerResponse): void };

export interface JsonWebhookSpec {
  path: string;
  /** Largest body accepted (413 above it). */
  bodyLimitBytes?: number;
  /** Checks the request against the channel's secret: a refusal is answered with its status (401/403). */
  verify(req: IncomingMessage, body: Buffer): Verdict;
  /** Reads the verified body; default: a JSON object, else a 400. For platforms that also post forms (Slack). */
  parse?(req: IncomingMessage, body: Buffer): Record<string, unknown> | WebhookOutcome;
  /**
   * The events a verified payload carries, in order, or `refuse(reason)` (a 400) / `answer(send)`. Events the
   * channel skips (an unsupported kind) are left out; skipped parts are the channel's to log.
   */
  normalize(
    payload: Record<string, unknown>,
  ): Promise<InboundEvent[] | WebhookOutcome> | InboundEvent[] | WebhookOutcome;
  /** Answers the platform once every event is durable (the status and body it expects). */
  ack(res: ServerResponse): void;
}

function jsonObject(body: Buffer): Record<string, unknown> | WebhookOutcome {
  return readJsonObject(body) ?? refuse("body is not a JSON object");
}

/** Events ingested per event-loop turn: a few milliseconds of work on the 2-core machine the benchmarks use. */
const INGEST_SLICE = 250;

const outcomes = new WeakSet<object>();

/** The outcome a channel returns from parse or normalize (kept apart from a payload that has such keys). */
export const refuse = (reason: string): WebhookOutcome => mark({ refuse: reason });
export const answer = (send: (res: ServerResponse) => void): WebhookOutcome => mark({ answer: send });

function mark(o: WebhookOutcome): WebhookOutcome {
  outcomes.add(o);
  return o;
}

function isOutcome(v: object): v is WebhookOutcome {
  return outcomes.has(v);
}

function settle(res: ServerResponse, o: WebhookOutcome): void {
  if ("answer" in o) o.answer(res);
  else sendError(res, 400, o.refuse);
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
      const payload = spec.parse ? spec.parse(req, body) : jsonObject(body);
      if (isOutcome(payload)) return settle(res, payload);
      const events = await spec.normalize(payload);
      if (!Array.isArray(events)) return settle(res, events);
      for (const _ of events) health.inbound();
      // Ingested in order, so lanes keep it; consecutive calls share a group commit. A webhook of thousands is
      // ingested a slice per event-loop turn, so requests that arrive meanwhile (/healthz) are not held behind
      // the whole of it.
      const ingested: Promise<unknown>[] = [];
      for (let i = 0; i < events.length; i += INGEST_SLICE) {
        if (i > 0) await new Promise((r) => setImmediate(r));
        for (const e of events.slice(i, i + INGEST_SLICE)) ingested.push(ctx.ingest(e));
      }
      await Promise.all(ingested);
      spec.ack(res);
    },
  };
}
