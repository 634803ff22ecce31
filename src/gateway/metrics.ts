// Prometheus metrics. One registry per gateway so tests can run several gateways in one process.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "clawgate_process_" });
  return {
    registry,
    inbound: new Counter({
      name: "clawgate_inbound_total",
      help: "Inbound events by channel and result (accepted, duplicate, rejected)",
      labelNames: ["channel", "result"],
      registers: [registry],
    }),
    processed: new Counter({
      name: "clawgate_processed_total",
      help: "Inbox items processed by outcome",
      labelNames: ["channel", "outcome"],
      registers: [registry],
    }),
    outbound: new Counter({
      name: "clawgate_outbound_total",
      help: "Outbox deliveries by channel and result (sent, retry, rate_limited, dead)",
      labelNames: ["channel", "result"],
      registers: [registry],
    }),
    targetLatency: new Histogram({
      name: "clawgate_target_seconds",
      help: "Time from dispatch to the complete reply, by target",
      labelNames: ["target", "outcome"],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "clawgate_queue_items",
      help: "Items in the inbox and outbox by state",
      labelNames: ["queue", "state"],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
