// Drives autocannon from this process (the servers under test are child processes, so the load generator
// never shares their event loop). Every request gets a fresh body, and a signature when the target wants one.
import { createRequire } from "node:module";

export interface LoadResult {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  durationSec: number;
}

export interface LoadTarget {
  url: string;
  method: "POST";
  /** Path and body for the n-th request; headers are added to content-type. */
  request(n: number): { path: string; body: string; headers?: Record<string, string> };
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface AutocannonResult {
  "2xx": number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

let counter = 0;

export async function runLoad(
  target: LoadTarget,
  opts: { connections: number; durationSec: number },
): Promise<LoadResult> {
  const r = await autocannon({
    url: target.url,
    connections: opts.connections,
    duration: opts.durationSec,
    timeout: 10,
    requests: [
      {
        method: target.method,
        setupRequest: (req: AutocannonRequest) => {
          const { path, body, headers } = target.request(counter++);
          req.path = path;
          req.body = body;
          req.headers = { "content-type": "application/json", ...headers };
          return req;
        },
      },
    ],
  });
  const requests = r["2xx"] + r.non2xx;
  return {
    requests,
    ok: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    // Completed 2xx per second over the measured window (autocannon's average counts every response).
    reqPerSec: r["2xx"] / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    durationSec: r.duration,
  };
}
