// Runs templates on the pool and follows each job to the end: /ws events while they arrive, /history when
// they do not (a restart, a dropped socket, a job that finished while the gateway was down). Results and
// errors go to the chat that asked through the outbox with per-job idempotency keys, so nothing is sent twice
// however many paths (socket, reconciler, replicas) notice the same ending.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { MediaItem } from "../../channels/types.ts";
import type { DeliveryAddress } from "../../core/event.ts";
import type { GatewayServices } from "../../gateway/services.ts";
import { type Periodic, runPeriodically } from "../../runtime/periodic.ts";
import { ComfyClient, ComfyError, type HistoryEntry } from "./client.ts";
import type { ResolvedComfyui } from "./config.ts";
import { deliverToChat } from "./delivery.ts";
import { type ComfyEvent, ComfyEventStream } from "./events.ts";
import { followMode, isDue, queuePlace } from "./follow.ts";
import { isOpen, type JobRecord, JobStore } from "./job-store.ts";
import {
  ending,
  eventStep,
  historyStep,
  isTerminalEvent,
  neverQueued,
  newJob,
  type Outcome,
  progressText,
  serverLost,
  startedStep,
} from "./lifecycle.ts";
import { jobMark, locateJob, unconfirmedStep } from "./locate.ts";
import { collectImages } from "./outputs.ts";
import { type ComfyPool, type ServerState, SubmitOutcomeUnknown } from "./pool.ts";
import { type ProgressMessage, ProgressMessages } from "./progress.ts";
import { runSeconds } from "./run-time.ts";
import { stopJobs } from "./stop-jobs.ts";
import type { InputValue } from "./templates.ts";
import type { WorkflowFor } from "./uploads.ts";

export interface SubmitRequest {
  template: string;
  workflow: Record<string, unknown>;
  inputs: Record<string, InputValue>;
  deliverTo: DeliveryAddress;
  requestedBy?: string;
  source: JobRecord["source"];
  approvalId?: string;
  scheduleId?: string;
  /** The workflow for one server, when it first needs files there (a run's photos, see uploads.ts). */
  workflowFor?: WorkflowFor;
}

export class JobTracker {
  readonly jobs: JobStore;
  readonly #services: GatewayServices;
  readonly #pool: ComfyPool;
  readonly #cfg: ResolvedComfyui;
  readonly #log: Logger;
  readonly #clientId: string;
  readonly #streams = new Map<string, ComfyEventStream>();
  readonly #progress: ProgressMessages;
  readonly #lastEventAt = new Map<string, number>();
  readonly #finishing = new Set<string>();
  readonly #chains = new Map<string, Promise<void>>();
  /** Endings and delayed re-checks in flight (stop() waits for them). */
  readonly #work = new Set<Promise<unknown>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #reconciler: Periodic | undefined;
  #stopped = false;
  readonly #startedAt = Date.now();

  constructor(services: GatewayServices, pool: ComfyPool, cfg: ResolvedComfyui, clientId: string) {
    this.#services = services;
    this.#pool = pool;
    this.#cfg = cfg;
    this.#log = services.log;
    this.#clientId = clientId;
    this.jobs = new JobStore(services.store);
    this.#progress = new ProgressMessages(cfg.progressIntervalMs, services.log);
  }

  start() {
    // First pass at once: deliver what finished while the gateway was down.
    const every = Math.min(this.#cfg.reconcileIntervalMs, this.#cfg.pollIntervalMs);
    this.#reconciler = runPeriodically(every, () =>
      this.reconcile().catch((err: Error) =>
        this.#log.warn({ err: err.message }, "checking open ComfyUI jobs failed"),
      ),
    );
  }

  /** Settles once nothing the tracker started is still running: the store may close after it. */
  async stop() {
    this.#stopped = true;
    for (const s of this.#streams.values()) s.close();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.#reconciler?.stop();
    // Events already received finish; a result being delivered reaches the outbox.
    while (this.#chains.size || this.#work.size)
      await Promise.allSettled([...this.#chains.values(), ...this.#work]);
  }

  /** Opens the event stream of a server (called when it becomes healthy, and before submitting). */
  connect(server: ServerState) {
    let stream = this.#streams.get(server.client.url);
    if (!stream) {
      const url = server.client.url;
      stream = new ComfyEventStream(server.client.wsUrl(this.#clientId), this.#log, (e) =>
        this.#onEvent(url, e),
      );
      this.#streams.set(url, stream);
    }
    stream.ensure();
  }

  /** The WebSocket client id this gateway submits with (events of its jobs come to it). */
  get clientId() {
    return this.#clientId;
  }

  async submit(req: SubmitRequest): Promise<JobRecord> {
    // One id per job, sent with every attempt: a server that got it although it did not answer can be asked.
    const jobId = randomUUID();
    const nodeTypes: Record<string, string> = {};
    for (const [id, n] of Object.entries(req.workflow))
      nodeTypes[id] = String((n as { class_type?: string }).class_type);
    try {
      const { server, result } = await this.#pool.submit(
        async (s) => {
          this.connect(s);
          const workflow = req.workflowFor ? await req.workflowFor(s.client) : req.workflow;
          const r = await s.client.submit(workflow, this.#clientId, {
            promptId: jobId,
            extra: jobMark(jobId, { template: req.template, source: req.source }),
          });
          return { promptId: r.promptId, note: `queue number ${r.number}` };
        },
        async (s) => {
          const found = await locateJob(s.client, jobId);
          return found ? { promptId: found, note: "answered late; the server has the job" } : undefined;
        },
      );
      return this.adopt(result.promptId, server, req, nodeTypes, result.note, this.#clientId);
    } catch (err) {
      if (!(err instanceof SubmitOutcomeUnknown)) throw err;
      // Maybe queued there: follow it under our id until the server says (see #confirm).
      const job = await this.adopt(jobId, err.server, req, nodeTypes, err.message, this.#clientId, true);
      return job;
    }
  }

  /** Follows a job someone else submitted (the ComfyUI-OpenClaw extension) to deliver its results. */
  async adopt(
    promptId: string,
    server: ServerState,
    req: Omit<SubmitRequest, "workflow">,
    nodeTypes: Record<string, string> = {},
    note = "",
    clientId?: string,
    unconfirmed = false,
  ): Promise<JobRecord> {
    this.connect(server);
    const now = Date.now();
    const job = newJob(
      {
        promptId,
        server: server.client.url,
        serverName: server.name,
        req,
        nodeTypes,
        note,
        clientId,
        unconfirmed,
      },
      now,
    );
    await this.jobs.put(job);
    this.#lastEventAt.set(job.promptId, now);
    return job;
  }

  /** Interrupts running jobs and removes queued ones; without ids, every open job of this gateway. */
  stopJobs(ids: string[]): Promise<string[]> {
    return stopJobs(ids, {
      jobs: this.jobs,
      servers: this.#pool.servers,
      clientFor: (url) => this.#clientFor(url),
      removed: (job) => this.#end(job, { kind: "stopped", how: "removed from the queue" }),
    });
  }

  // ---- events ----

  #onEvent(server: string, e: ComfyEvent) {
    const id = e.data.prompt_id;
    if (!id || this.#stopped) return;
    this.#lastEventAt.set(id, Date.now());
    // One job's events are handled in order, so a late "started" never overwrites "done".
    const prev = this.#chains.get(id) ?? Promise.resolve();
    const next = prev
      .then(() => this.#handle(server, id, e))
      .catch((err: Error) =>
        this.#log.warn({ promptId: id, event: e.type, err: err.message }, "handling a ComfyUI event failed"),
      );
    this.#chains.set(id, next);
    void next.then(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    });
  }

  async #handle(server: string, id: string, e: ComfyEvent) {
    const step = eventStep(e);
    if (step.kind === "ignore") return;
    const job = await this.jobs.get(id);
    if (!job) {
      if (isTerminalEvent(e.type)) this.#lookAgain(id);
      return;
    }
    if (!isOpen(job)) return;
    if (step.kind === "progress") {
      job.progress = { value: step.value, max: step.max, node: step.node };
      // Progress is kept in memory for the chat; the record is written at start and end only.
      this.#progressFor(job)?.update(progressText(job, step.value, step.max, step.node));
    } else if (step.kind === "started") await this.#started(job, server);
    else if (step.kind === "success") await this.#complete(job, undefined, 10);
    else await this.#end(job, step.outcome);
  }

  /** The job ended before submit() stored its record (a very fast job): look again in a moment. */
  #lookAgain(id: string) {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#track(
        this.jobs
          .get(id)
          .then((j) => (j && isOpen(j) ? this.#recheck(j) : undefined))
          .catch(() => {}),
      );
    }, 300);
    t.unref();
    this.#timers.add(t);
  }

  async #started(job: JobRecord, detail: string) {
    const step = startedStep(job, detail, Date.now());
    Object.assign(job, step.patch);
    job.trace.push(step.trace);
    await this.jobs.put(job);
    this.#progressFor(job)?.update(step.progress);
  }

  // ---- reconciling (restart, lost socket) and polling (jobs whose events go elsewhere) ----

  async reconcile() {
    const open = await this.jobs.open();
    const now = Date.now();
    for (const job of open) {
      if (this.#stopped) return;
      const mode = followMode(job, this.#clientId);
      if (!isDue(mode, this.#lastEventAt.get(job.promptId), now, this.#cfg)) continue;
      this.#lastEventAt.set(job.promptId, now);
      await this.#recheck(job).catch((err: Error) => {
        if (!(err instanceof ComfyError && err.unreachable))
          this.#log.warn({ promptId: job.promptId, err: err.message }, "re-checking a ComfyUI job failed");
      });
    }
  }

  async #recheck(job: JobRecord) {
    const client = this.#clientFor(job.server);
    const pool = this.#pool.byUrl(job.server);
    if (pool) this.connect(pool);
    if (job.unconfirmed && !(await this.#confirm(job, client))) return;
    let entry = await client.history(job.promptId);
    if (!entry) {
      const place = queuePlace(await client.queue(), job.promptId);
      if (place?.running && job.state === "queued")
        await this.#started(job, `${job.server} (seen in /queue)`);
      else if (place && !place.running && followMode(job, this.#clientId) === "poll")
        this.#progressFor(job)?.update(
          `⏳ ${job.template} queued on ${job.serverName} (${place.ahead} ahead)`,
        );
      if (place) return;
      entry = await client.history(job.promptId);
      if (!entry) return this.#end(job, serverLost(job.server));
    }
    const step = historyStep(entry);
    if (step.kind === "ended") await this.#end(job, step.outcome);
    else if (step.kind === "complete") await this.#complete(job, entry, 0);
  }

  /**
   * An unconfirmed job: asks its server (a server that does not answer throws, and the job keeps waiting).
   * Found: followed from now on, under the id the server gave it. Missing while the server answers for longer
   * than a late submit could take: it never got there, and the user is told to run it again.
   */
  async #confirm(job: JobRecord, client: ComfyClient): Promise<boolean> {
    const found = await locateJob(client, job.promptId);
    const step = unconfirmedStep(found, job.missingSince, Date.now(), 4 * this.#cfg.requestTimeoutMs);
    if (step.kind === "lost") {
      await this.#end(job, neverQueued(job.server));
      return false;
    }
    if (step.kind === "wait") {
      if (job.missingSince !== step.missingSince) {
        job.missingSince = step.missingSince;
        await this.jobs.put(job);
      }
      return false;
    }
    job.unconfirmed = undefined;
    job.missingSince = undefined;
    job.trace.push({
      at: Date.now(),
      event: "confirmed",
      detail: `the server has the job as ${step.promptId}`,
    });
    if (step.promptId !== job.promptId) await this.jobs.rekey(job, step.promptId);
    else await this.jobs.put(job);
    return true;
  }

  // ---- endings ----

  /** A successful job: its outputs are collected and sent with the result. */
  async #complete(job: JobRecord, known: HistoryEntry | undefined, retries: number) {
    await this.#finish(job, async () => {
      const client = this.#clientFor(job.server);
      let entry = known;
      for (let i = 0; !entry && i <= retries; i++) {
        // execution_success can arrive a moment before ComfyUI writes the history entry.
        entry = await client.history(job.promptId);
        if (!entry && i < retries) await new Promise((r) => setTimeout(r, 100 * (i + 1)));
      }
      if (!entry) return undefined; // the reconciler will find it
      const { media, notes } = await collectImages((ref, max) => client.view(ref, max), entry, this.#cfg);
      const seconds = runSeconds(entry, {
        startedAt: job.startedAt,
        trackerStartedAt: this.#startedAt,
        now: Date.now(),
      });
      return { outcome: { kind: "done", images: media.length, notes, seconds }, media };
    });
  }

  #end(job: JobRecord, outcome: Outcome) {
    return this.#finish(job, async () => ({ outcome, media: [] }));
  }

  /** Ends a job once however many paths notice: its message goes out, then the record and progress line follow. */
  async #finish(job: JobRecord, decide: () => Promise<{ outcome: Outcome; media: MediaItem[] } | undefined>) {
    if (this.#finishing.has(job.promptId)) return;
    this.#finishing.add(job.promptId);
    const work = (async () => {
      const decided = await decide();
      if (!decided) return;
      const { outcome, media } = decided;
      const end = ending(job, outcome, Date.now());
      const message = media.length ? { ...end.message, media } : end.message;
      await this.#deliver(job, message, end.deliveryKind, media);
      Object.assign(job, end.patch);
      job.trace.push(end.trace);
      await this.jobs.put(job);
      await this.#endProgress(job, end.progress);
    })().finally(() => this.#finishing.delete(job.promptId));
    await this.#track(work);
  }

  /** Work that stop() waits for, so a result being delivered reaches the outbox before the store closes. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#work.add(work);
    void work.then(
      () => this.#work.delete(work),
      () => this.#work.delete(work),
    );
    return work;
  }

  async #deliver(
    job: JobRecord,
    message: Parameters<GatewayServices["deliver"]>[1],
    kind: string,
    images: MediaItem[] = [],
  ) {
    try {
      await deliverToChat(this.#services, job, message, `comfyui:${kind}:${job.promptId}`, images);
    } catch (err) {
      // No channel for that address any more (removed from the config): the job still ends, visibly in /trace.
      job.trace.push({ at: Date.now(), event: "delivery_failed", detail: (err as Error).message });
      this.#log.error(
        { promptId: job.promptId, err: (err as Error).message },
        "cannot deliver a ComfyUI result",
      );
    }
  }

  async #endProgress(job: JobRecord, text: string) {
    this.#lastEventAt.delete(job.promptId);
    await this.#progress.finish(job.promptId, text);
  }

  #progressFor(job: JobRecord): ProgressMessage | undefined {
    return this.#progress.for(job, this.#services.adapter(job.deliverTo.channel, job.deliverTo.account));
  }

  #clientFor(url: string): ComfyClient {
    return this.#pool.byUrl(url)?.client ?? new ComfyClient(url, { timeoutMs: this.#cfg.requestTimeoutMs });
  }
}
