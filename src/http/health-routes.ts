// /healthz: the process is up. /readyz: store answers and listeners are open. /metrics: Prometheus text.
import type { Gauge, Registry } from "prom-client";
import type { Store } from "../store/types.ts";
import { sendJson, sendText } from "./respond.ts";
import type { Router } from "./router.ts";

export interface HealthSource {
  store: Store;
  ready(): boolean;
  metrics: { registry: Registry; queueDepth: Gauge<"queue" | "state"> };
}

export function registerHealthRoutes(router: Router, gw: HealthSource) {
  router.add("GET", "/healthz", (_req, res) => sendJson(res, 200, { ok: true }), { kind: "health" });
  router.add(
    "GET",
    "/readyz",
    async (_req, res) => {
      if (!gw.ready()) return sendJson(res, 503, { ok: false, reason: "starting or shutting down" });
      try {
        await gw.store.ping();
      } catch (err) {
        return sendJson(res, 503, { ok: false, reason: `store unavailable: ${(err as Error).message}` });
      }
      sendJson(res, 200, { ok: true, store: gw.store.kind });
    },
    { kind: "health" },
  );
  router.add(
    "GET",
    "/metrics",
    async (_req, res) => {
      const [inbox, outbox] = await Promise.all([gw.store.inboxStats(), gw.store.outboxStats()]);
      for (const [queue, stats] of [
        ["inbox", inbox],
        ["outbox", outbox],
      ] as const) {
        for (const [state, n] of Object.entries(stats)) gw.metrics.queueDepth.set({ queue, state }, n);
      }
      sendText(res, 200, await gw.metrics.registry.metrics(), gw.metrics.registry.contentType);
    },
    { kind: "health" },
  );
}
