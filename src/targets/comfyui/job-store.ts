// ComfyUI jobs in the store's kv (no new tables, so the PostgreSQL store needs nothing extra). Every job is
// kept 30 days under its prompt id; unfinished ones are also listed in an "open" namespace so a restarted
// gateway finds exactly the jobs it still has to finish.
import type { DeliveryAddress } from "../../core/event.ts";
import type { Store } from "../../store/types.ts";
import type { InputValue } from "./templates.ts";

const JOBS = "comfyui-job";
const OPEN = "comfyui-job-open";
const KEEP_MS = 30 * 86_400_000;
const MAX_TRACE = 40;

export type JobState = "queued" | "running" | "done" | "error" | "stopped";

export interface JobRecord {
  promptId: string;
  server: string;
  serverName: string;
  template: string;
  inputs: Record<string, InputValue>;
  /** Where the results go. */
  deliverTo: DeliveryAddress;
  sessionKey: string;
  requestedBy?: string;
  source: "chat" | "approval" | "schedule";
  approvalId?: string;
  scheduleId?: string;
  state: JobState;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  finishedAt?: number;
  progress?: { value: number; max: number; node?: string };
  /** class_type per node id, to name nodes in progress and errors. */
  nodeTypes: Record<string, string>;
  error?: { nodeId?: string; nodeType?: string; message: string; traceback?: string };
  images?: number;
  /**
   * The server did not answer the submit in time: the job may or may not be queued there. Set until the server
   * shows it (then it is followed as usual) or, answering, keeps not having it (then it failed).
   */
  unconfirmed?: boolean;
  /** When the server first answered without having an unconfirmed job. */
  missingSince?: number;
  /** The WebSocket client id the job was submitted with; events go only there. */
  clientId?: string;
  /** Notable events for /trace. */
  trace: { at: number; event: string; detail?: string }[];
}

export const isOpen = (j: JobRecord) => j.state === "queued" || j.state === "running";

export class JobStore {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async get(promptId: string): Promise<JobRecord | undefined> {
    const raw = await this.#store.kvGet(JOBS, promptId);
    return raw ? (JSON.parse(raw) as JobRecord) : undefined;
  }

  /** Finds a job by full id or by an unambiguous prefix of at least 6 characters. */
  async find(idOrPrefix: string): Promise<JobRecord | undefined> {
    const exact = await this.get(idOrPrefix);
    if (exact || idOrPrefix.length < 6) return exact;
    const rows = await this.#store.kvList(JOBS, { prefix: idOrPrefix, limit: 2 });
    return rows.length === 1 ? (JSON.parse(rows[0]!.value) as JobRecord) : undefined;
  }

  async put(job: JobRecord) {
    job.updatedAt = Date.now();
    if (job.trace.length > MAX_TRACE) job.trace.splice(1, job.trace.length - MAX_TRACE);
    await this.#store.kvSet(JOBS, job.promptId, JSON.stringify(job), KEEP_MS);
    if (isOpen(job)) await this.#store.kvSet(OPEN, job.promptId, job.server, KEEP_MS);
    else await this.#store.kvDelete(OPEN, job.promptId);
  }

  /** Moves a job to the id its server gave it (a server that ignored the client-chosen prompt_id). */
  async rekey(job: JobRecord, promptId: string) {
    await this.#store.kvDelete(OPEN, job.promptId);
    await this.#store.kvDelete(JOBS, job.promptId);
    job.promptId = promptId;
    await this.put(job);
  }

  async open(): Promise<JobRecord[]> {
    const ids = await this.#store.kvList(OPEN, { limit: 1000 });
    const jobs = await Promise.all(ids.map((r) => this.get(r.key)));
    return jobs
      .filter((j): j is JobRecord => j !== undefined && isOpen(j))
      .sort((a, b) => a.createdAt - b.createdAt);
  }
}
