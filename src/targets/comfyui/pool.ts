// Several ComfyUI servers as one: health from /system_stats (plus queue_remaining), each job to the
// least-loaded healthy server, failover to the next when a submit cannot reach one. Health changes are logged
// once per change, so a server that is down does not fill the log.
import type { Logger } from "pino";
import { ComfyClient, ComfyError, type SystemStats } from "./client.ts";

export interface ServerState {
  name: string;
  client: ComfyClient;
  /** undefined until the first check. */
  healthy: boolean | undefined;
  queueRemaining: number;
  /** Jobs sent since the last health check (queue_remaining lags behind). */
  sentSinceCheck: number;
  stats?: SystemStats;
  lastError?: string;
  checkedAt?: number;
}

export class ComfyPool {
  readonly servers: ServerState[];
  readonly #log: Logger;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  /** Bumped by start() and stop(): a check still in flight from an earlier loop must not schedule another. */
  #generation = 0;
  #onHealthy: ((s: ServerState) => void) | undefined;

  constructor(
    servers: { url: string; name: string }[],
    opts: { log: Logger; healthIntervalMs: number; timeoutMs: number; headers?: Record<string, string> },
  ) {
    this.servers = servers.map((s) => ({
      name: s.name,
      client: new ComfyClient(s.url, { timeoutMs: opts.timeoutMs, headers: opts.headers }),
      healthy: undefined,
      queueRemaining: 0,
      sentSinceCheck: 0,
    }));
    this.#log = opts.log;
    this.#intervalMs = opts.healthIntervalMs;
  }

  /** Starts periodic health checks; `onHealthy` runs when a server becomes healthy (connect its socket). */
  start(onHealthy: (s: ServerState) => void) {
    this.#onHealthy = onHealthy;
    const generation = ++this.#generation;
    const loop = async () => {
      await this.checkAll();
      if (generation !== this.#generation) return;
      this.#timer = setTimeout(loop, this.#intervalMs);
      this.#timer.unref();
    };
    void loop();
  }

  stop() {
    this.#generation++;
    // A check in flight must not connect a server's socket after the gateway stopped either.
    this.#onHealthy = undefined;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  byUrl(url: string): ServerState | undefined {
    return this.servers.find((s) => s.client.url === url);
  }

  async checkAll() {
    await Promise.all(this.servers.map((s) => this.check(s)));
  }

  async check(s: ServerState) {
    const was = s.healthy;
    try {
      const [stats, remaining] = await Promise.all([s.client.systemStats(), s.client.queueRemaining()]);
      s.stats = stats;
      s.queueRemaining = remaining;
      s.sentSinceCheck = 0;
      s.healthy = true;
      s.lastError = undefined;
    } catch (err) {
      s.healthy = false;
      s.lastError = (err as Error).message;
    }
    s.checkedAt = Date.now();
    if (s.healthy && was !== true) {
      this.#log.info(
        { comfyui: s.client.url, version: s.stats?.system?.comfyui_version },
        "ComfyUI server is up",
      );
      this.#onHealthy?.(s);
    } else if (!s.healthy && was !== false) {
      this.#log.warn(
        { comfyui: s.client.url, err: s.lastError },
        "ComfyUI server is down; checking again in the background",
      );
    }
  }

  /** Healthy servers, least loaded first; servers not checked yet come after them, down ones last. */
  ranked(): ServerState[] {
    const load = (s: ServerState) => s.queueRemaining + s.sentSinceCheck;
    const order = (s: ServerState) => (s.healthy === true ? 0 : s.healthy === undefined ? 1 : 2);
    return [...this.servers].sort((a, b) => order(a) - order(b) || load(a) - load(b));
  }

  /**
   * Runs `submit` on the best server, moving on to the next when one is unreachable. A refusal that is about
   * the workflow itself (HTTP 400) is not retried elsewhere: another server would refuse it too.
   *
   * POST /prompt is not idempotent, so a submit whose outcome is unknown (no answer in time) is not simply
   * retried elsewhere: `locate` asks that server whether it has the job. Found: it is the job. Answered without
   * it: the next server is tried. No answer either: SubmitOutcomeUnknown, and no other server is tried, since
   * the first may still run it (waiting beats running it twice).
   */
  async submit<T>(
    submit: (s: ServerState) => Promise<T>,
    locate: (s: ServerState) => Promise<T | undefined>,
  ): Promise<{ server: ServerState; result: T }> {
    const failures: string[] = [];
    for (const s of this.ranked()) {
      try {
        const result = await submit(s);
        s.sentSinceCheck++;
        if (s.healthy !== true) void this.check(s);
        return { server: s, result };
      } catch (err) {
        if (!(err instanceof ComfyError) || !err.unreachable) throw err;
        if (err.outcomeUnknown) {
          let found: T | undefined;
          try {
            found = await locate(s);
          } catch {
            throw new SubmitOutcomeUnknown(s, err.message);
          }
          if (found !== undefined) {
            this.#log.warn({ comfyui: s.client.url }, "ComfyUI answered late but has the job; following it");
            s.sentSinceCheck++;
            return { server: s, result: found };
          }
        }
        failures.push(err.message + (err.outcomeUnknown ? " (and it has not queued the job)." : ""));
        if (s.healthy !== false) {
          s.healthy = false;
          s.lastError = err.message;
          this.#log.warn(
            { comfyui: s.client.url, err: err.message },
            "ComfyUI server failed; trying the next one",
          );
        }
      }
    }
    throw new ComfyError(
      this.servers.length === 1
        ? failures[0]!
        : `No ComfyUI server could take the job: ${failures.join(" ")} Start ComfyUI or fix OPENCLAW_CONNECTOR_URL.`,
      { unreachable: true },
    );
  }

  /** "name: N running, M pending" per server, asked now (for /jobs). */
  queueSummary(): Promise<string> {
    return Promise.all(
      this.servers.map(async (s) => {
        try {
          const q = await s.client.queue();
          return `${s.name}: ${q.running.length} running, ${q.pending.length} pending`;
        } catch {
          return `${s.name}: unreachable`;
        }
      }),
    ).then((lines) => `Queue — ${lines.join("; ")}`);
  }

  /** One line per server for /status. */
  statusLines(): string[] {
    return this.servers.map((s) => {
      const state = s.healthy === true ? "up" : s.healthy === false ? "DOWN" : "not checked yet";
      if (!s.healthy)
        return `ComfyUI ${s.name} (${s.client.url}): ${state}${s.lastError ? ` — ${s.lastError}` : ""}`;
      const dev = s.stats?.devices?.[0];
      // On a CPU-only server the "device" is the CPU and its "VRAM" is system RAM.
      const memory = dev?.type === "cpu" ? "RAM" : "VRAM";
      const vram = dev?.vram_total
        ? `, ${memory} ${gb(dev.vram_free)}/${gb(dev.vram_total)} GB free${dev.type === "cpu" ? " (CPU only)" : ""}`
        : "";
      const v = s.stats?.system?.comfyui_version;
      const version = v && v !== "unknown" ? ` v${v.replace(/^v/, "")}` : "";
      return `ComfyUI ${s.name} (${s.client.url}): up${version}, queue ${s.queueRemaining}${vram}`;
    });
  }
}

/** A server took the submit but did not answer, nor answer whether it has the job: it may still run it. */
export class SubmitOutcomeUnknown extends ComfyError {
  readonly server: ServerState;
  constructor(server: ServerState, why: string) {
    super(
      `${why}, nor said whether it has the job. It may still run it there, so the job was not sent to another server (that could run it twice).`,
      { unreachable: true, outcomeUnknown: true },
    );
    this.name = "SubmitOutcomeUnknown";
    this.server = server;
  }
}

const gb = (bytes: number | undefined) => ((bytes ?? 0) / 1024 ** 3).toFixed(1);
