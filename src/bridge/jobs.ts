// Bridge jobs: accepted at once, run in the background by a BridgeJobRunner, their status kept in the store for
// 24 h (GET /bridge/jobs/:id), and their result (or error) delivered to `delivery_target` through the outbox.
// A job whose process died mid-run is reported failed once its timeout has passed, never "running" forever.
import type { ExtensionHost } from "../gateway/host.ts";
import type { BridgeJob, BridgeJobRunner } from "./runner.ts";

const NS = "bridge:job";
const TTL_MS = 24 * 3600_000;

export interface JobRecord {
  id: string;
  traceId: string;
  deviceId: string;
  runner: string;
  status: "queued" | "running" | "done" | "deferred" | "failed";
  createdAt: number;
  finishedAt?: number;
  owner: string;
  timeoutMs: number;
  resultText?: string;
  files?: number;
  error?: string;
  delivered?: boolean;
}

export class BridgeJobs {
  readonly #gw: ExtensionHost;
  readonly #running = new Map<string, AbortController>();

  constructor(gw: ExtensionHost) {
    this.#gw = gw;
  }

  get depth(): number {
    return this.#running.size;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const raw = await this.#gw.kv.kvGet(NS, id);
    if (!raw) return undefined;
    const r = JSON.parse(raw) as JobRecord;
    const lost =
      (r.status === "queued" || r.status === "running") && Date.now() > r.createdAt + r.timeoutMs + 60_000;
    return lost
      ? {
          ...r,
          status: "failed",
          error: "the gateway stopped while the job ran; submit it again with a new idempotency_key",
        }
      : r;
  }

  async #put(record: JobRecord) {
    await this.#gw.kv.kvSet(NS, record.id, JSON.stringify(record), TTL_MS);
  }

  /** Records the job as queued and starts it; resolves once the record is durable. */
  async start(job: BridgeJob, runner: BridgeJobRunner): Promise<JobRecord> {
    const record: JobRecord = {
      id: job.id,
      traceId: job.traceId,
      deviceId: job.deviceId,
      runner: runner.name,
      status: "queued",
      createdAt: Date.now(),
      owner: this.#gw.owner,
      timeoutMs: job.timeoutMs,
    };
    await this.#put(record);
    const controller = new AbortController();
    this.#running.set(job.id, controller);
    void this.#run(job, runner, record, controller).finally(() => this.#running.delete(job.id));
    return record;
  }

  async #run(job: BridgeJob, runner: BridgeJobRunner, record: JobRecord, controller: AbortController) {
    const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(job.timeoutMs)]);
    await this.#put({ ...record, status: "running" });
    let done: JobRecord;
    try {
      const result = await runner.run(job, signal);
      done = {
        ...record,
        status: result.deferred ? "deferred" : "done",
        finishedAt: Date.now(),
        resultText: result.text?.slice(0, 8000),
        files: result.files?.length ?? 0,
      };
      if (job.deliveryTarget && !result.deferred && (result.text || result.files?.length)) {
        await this.#gw.services.deliver(
          job.deliveryTarget,
          { text: result.text ?? "", media: result.files, kind: "reply" },
          `bridge:job:${job.id}`,
          { historyRole: "assistant" },
        );
        done.delivered = true;
      }
    } catch (err) {
      const timedOut = signal.aborted && !controller.signal.aborted;
      const message = timedOut
        ? `the job took longer than ${Math.round(job.timeoutMs / 1000)} s and was stopped`
        : (err as Error).message;
      done = { ...record, status: "failed", finishedAt: Date.now(), error: message };
      this.#gw.log.warn({ job: job.id, device: job.deviceId, err: message }, "bridge job failed");
      if (job.deliveryTarget && !controller.signal.aborted) {
        await this.#gw.services
          .deliver(
            job.deliveryTarget,
            { text: `⚠️ Job ${job.id} failed: ${message}`, kind: "error" },
            `bridge:job:${job.id}`,
          )
          .then(() => {
            done.delivered = true;
          })
          .catch(() => {});
      }
    }
    await this.#put(done).catch(() => {});
  }

  async stop() {
    for (const c of this.#running.values()) c.abort(new Error("gateway stopping"));
  }
}
