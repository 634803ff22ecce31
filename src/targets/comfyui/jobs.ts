// Runs templates on the pool and follows each job to the end: /ws events while they arrive, /history when
// they do not (a restart, a dropped socket, a job that finished while the gateway was down). Results and
// errors go to the chat that asked through the outbox with per-job idempotency keys, so nothing is sent twice
// however many paths (socket, reconciler, replicas) notice the same ending.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import sharp from "sharp";
import type { MediaItem } from "../../channels/types.ts";
import type { DeliveryAddress } from "../../core/event.ts";
import { formatSessionKey } from "../../core/session-key.ts";
import type { GatewayServices } from "../../gateway/services.ts";
import { type Periodic, runPeriodically } from "../../runtime/periodic.ts";
import { ComfyClient, ComfyError, type HistoryEntry, type ImageRef } from "./client.ts";
import type { ResolvedComfyui } from "./config.ts";
import { deliverToChat } from "./delivery.ts";
import { type ComfyEvent, ComfyEventStream } from "./events.ts";
import { followMode, isDue, queuePlace } from "./follow.ts";
import { isOpen, type JobRecord, JobStore } from "./job-store.ts";
import { jobMark, locateJob, unconfirmedStep } from "./locate.ts";
import { type ComfyPool, type ServerState, SubmitOutcomeUnknown } from "./pool.ts";
import { ProgressMessage, progressLine } from "./progress.ts";
import { runSeconds } from "./run-time.ts";
import type { InputValue } from "./templates.ts";

export interface SubmitRequest {
  template: string;
  workflow: Record<string, unknown>;
  inputs: Record<string, InputValue>;
  deliverTo: DeliveryAddress;
  requestedBy?: string;
  source: JobRecord["source"];
  approvalId?: string;
  scheduleId?: string;
}

export class JobTracker {
  readonly jobs: JobStore;
  readonly #services: GatewayServices;
  readonly #pool: ComfyPool;
  readonly #cfg: ResolvedComfyui;
  readonly #log: Logger;
  readonly #clientId: string;
  readonly #streams = new Map<string, ComfyEventStream>();
  readonly #progress = new Map<string, ProgressMessage>();
  readonly #lastEventAt = new Map<string, number>();
  readonly #finishing = new Set<string>();
  readonly #chains = new Map<string, Promise<void>>();
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

  async stop() {
    this.#stopped = true;
    void this.#reconciler?.stop();
    for (const s of this.#streams.values()) s.close();
    // Let a result that is being delivered reach the outbox before the store closes.
    for (let i = 0; i < 50 && this.#finishing.size; i++) await new Promise((r) => setTimeout(r, 20));
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
          const r = await s.client.submit(req.workflow, this.#clientId, {
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
    const job: JobRecord = {
      promptId,
      server: server.client.url,
      serverName: server.name,
      template: req.template,
      inputs: req.inputs,
      deliverTo: req.deliverTo,
      sessionKey: formatSessionKey({ ...req.deliverTo }),
      requestedBy: req.requestedBy,
      source: req.source,
      approvalId: req.approvalId,
      scheduleId: req.scheduleId,
      state: "queued",
      createdAt: now,
      updatedAt: now,
      nodeTypes,
      clientId,
      ...(unconfirmed ? { unconfirmed: true } : {}),
      trace: [
        {
          at: now,
          event: unconfirmed ? "submit_unanswered" : "submitted",
          detail: `to ${server.name} (${server.client.url})${note ? `, ${note}` : ""}`,
        },
      ],
    };
    await this.jobs.put(job);
    this.#lastEventAt.set(job.promptId, now);
    return job;
  }

  /** Interrupts running jobs and removes queued ones; without ids, every open job of this gateway. */
  async stopJobs(ids: string[]): Promise<string[]> {
    const lines: string[] = [];
    const targets = ids.length
      ? await Promise.all(ids.map((id) => this.jobs.find(id)))
      : await this.jobs.open();
    if (!ids.length) {
      // The seed's global interrupt: whatever is running on every server stops, ours or not.
      for (const s of this.#pool.servers) await s.client.interrupt().catch(() => {});
    }
    for (const [i, job] of targets.entries()) {
      if (!job) {
        lines.push(`${ids[i]}: no such job (see /jobs)`);
        continue;
      }
      if (!isOpen(job)) {
        lines.push(`${short(job.promptId)}: already ${job.state}`);
        continue;
      }
      const client = this.#clientFor(job.server);
      try {
        const q = await client.queue();
        if (q.pending.includes(job.promptId)) {
          await client.deleteQueued([job.promptId]);
          await this.#stopped_(job, "removed from the queue");
          lines.push(`${short(job.promptId)}: removed from the queue`);
        } else if (q.running.includes(job.promptId)) {
          // Checked first: a server without per-prompt interrupt stops whatever is running.
          await client.interrupt(job.promptId);
          lines.push(`${short(job.promptId)}: interrupt sent`);
        } else {
          lines.push(
            `${short(job.promptId)}: not running on ${job.serverName} right now (it may have just ended); nothing was interrupted`,
          );
        }
      } catch (err) {
        lines.push(`${short(job.promptId)}: ${(err as Error).message}`);
      }
    }
    return lines;
  }

  // ---- events ----

  #onEvent(server: string, e: ComfyEvent) {
    const id = e.data.prompt_id;
    if (!id) return;
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
    if (e.type === "progress") {
      const job = await this.jobs.get(id);
      if (!job || !isOpen(job)) return;
      const value = Number(e.data.value);
      const max = Number(e.data.max);
      const node = e.data.node ? String(e.data.node) : undefined;
      job.progress = { value, max, node };
      this.#progressFor(job)?.update(
        `⏳ ${job.template} on ${job.serverName}: ${progressLine(value, max, node, node ? job.nodeTypes[node] : undefined)}`,
      );
      // Progress is kept in memory for the chat; the record is written at start and end only.
      return;
    }
    if (e.type === "execution_start") {
      const job = await this.jobs.get(id);
      if (!job || !isOpen(job)) return;
      await this.#started(job, server);
      return;
    }
    const terminal = ["execution_success", "execution_error", "execution_interrupted"].includes(e.type);
    if (terminal && !(await this.jobs.get(id))) {
      // The job ended before submit() stored its record (a very fast job): look again in a moment.
      const t = setTimeout(() => {
        void this.jobs
          .get(id)
          .then((j) => (j && isOpen(j) ? this.#recheck(j) : undefined))
          .catch(() => {});
      }, 300);
      t.unref();
      return;
    }
    if (e.type === "execution_success" || (e.type === "executing" && e.data.node === null)) {
      const job = await this.jobs.get(id);
      if (job && isOpen(job)) await this.#complete(job, undefined, 10);
      return;
    }
    if (e.type === "execution_error") {
      const job = await this.jobs.get(id);
      if (job && isOpen(job)) await this.#failed(job, errorOf(e.data));
      return;
    }
    if (e.type === "execution_interrupted") {
      const job = await this.jobs.get(id);
      if (job && isOpen(job)) await this.#stopped_(job, "interrupted");
    }
  }

  async #started(job: JobRecord, detail: string) {
    job.state = "running";
    job.unconfirmed = undefined;
    job.startedAt = Date.now();
    job.trace.push({ at: Date.now(), event: "execution_start", detail });
    await this.jobs.put(job);
    this.#progressFor(job)?.update(`⏳ ${job.template} started on ${job.serverName}`);
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
      if (!entry) {
        await this.#failed(job, {
          message: `ComfyUI at ${job.server} no longer knows this job (was it restarted or its history cleared?). Run it again.`,
        });
        return;
      }
    }
    await this.#settle(job, entry);
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
      await this.#failed(job, {
        message: `ComfyUI at ${job.server} did not answer the submit in time and never queued the job. Run it again.`,
      });
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

  /** Ends a job from its history entry. */
  async #settle(job: JobRecord, entry: HistoryEntry) {
    const status = entry.status;
    const messages = status?.messages ?? [];
    const err = messages.find(([t]) => t === "execution_error");
    const interrupted = messages.find(([t]) => t === "execution_interrupted");
    if (err) return this.#failed(job, errorOf(err[1]));
    if (interrupted) return this.#stopped_(job, "interrupted");
    if (status?.status_str === "error")
      return this.#failed(job, { message: "ComfyUI reported an error without details" });
    if (status && status.completed === false && status.status_str !== "success") return;
    await this.#complete(job, entry, 0);
  }

  // ---- endings ----

  async #complete(job: JobRecord, known: HistoryEntry | undefined, retries: number) {
    if (!this.#claim(job.promptId)) return;
    try {
      const client = this.#clientFor(job.server);
      let entry = known;
      for (let i = 0; !entry && i <= retries; i++) {
        // execution_success can arrive a moment before ComfyUI writes the history entry.
        entry = await client.history(job.promptId);
        if (!entry && i < retries) await new Promise((r) => setTimeout(r, 100 * (i + 1)));
      }
      if (!entry) return; // the reconciler will find it
      const { media, notes } = await this.#collectImages(client, entry);
      const took = runSeconds(entry, {
        startedAt: job.startedAt,
        trackerStartedAt: this.#startedAt,
        now: Date.now(),
      });
      const seconds = took !== undefined ? ` in ${took} s` : "";
      const text =
        `✅ ${job.template} finished${seconds} — ${media.length ? `${media.length} image${media.length > 1 ? "s" : ""}` : "no images in the output"} (job ${job.promptId})` +
        (notes.length ? `\n${notes.join("\n")}` : "");
      await this.#deliver(job, { text, media: media.length ? media : undefined }, "result", media);
      job.state = "done";
      job.images = media.length;
      job.finishedAt = Date.now();
      job.trace.push({
        at: Date.now(),
        event: "done",
        detail: `${media.length} image(s) delivered${notes.length ? `; ${notes.join("; ")}` : ""}`,
      });
      await this.jobs.put(job);
      await this.#endProgress(job, `✅ ${job.template} done`);
    } finally {
      this.#finishing.delete(job.promptId);
    }
  }

  async #failed(job: JobRecord, error: NonNullable<JobRecord["error"]>) {
    if (!this.#claim(job.promptId)) return;
    try {
      const where = error.nodeId
        ? ` at node ${error.nodeId}${error.nodeType ? ` (${error.nodeType})` : ""}`
        : "";
      await this.#deliver(
        job,
        { text: `❌ ${job.template} failed${where}: ${error.message} (job ${job.promptId})`, kind: "error" },
        "error",
      );
      job.state = "error";
      job.error = error;
      job.finishedAt = Date.now();
      job.trace.push({
        at: Date.now(),
        event: "execution_error",
        detail: `${where.trim()} ${error.message}`.trim(),
      });
      await this.jobs.put(job);
      await this.#endProgress(job, `❌ ${job.template} failed`);
    } finally {
      this.#finishing.delete(job.promptId);
    }
  }

  async #stopped_(job: JobRecord, how: string) {
    if (!this.#claim(job.promptId)) return;
    try {
      await this.#deliver(
        job,
        { text: `⏹ ${job.template} stopped (${how}) (job ${job.promptId})`, kind: "notice" },
        "stopped",
      );
      job.state = "stopped";
      job.finishedAt = Date.now();
      job.trace.push({ at: Date.now(), event: "stopped", detail: how });
      await this.jobs.put(job);
      await this.#endProgress(job, `⏹ ${job.template} stopped`);
    } finally {
      this.#finishing.delete(job.promptId);
    }
  }

  #claim(promptId: string): boolean {
    if (this.#finishing.has(promptId)) return false;
    this.#finishing.add(promptId);
    return true;
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
    const p = this.#progress.get(job.promptId);
    this.#progress.delete(job.promptId);
    this.#lastEventAt.delete(job.promptId);
    await p?.finish(text).catch(() => {});
  }

  #progressFor(job: JobRecord): ProgressMessage | undefined {
    let p = this.#progress.get(job.promptId);
    if (p) return p;
    const adapter = this.#services.adapter(job.deliverTo.channel, job.deliverTo.account);
    if (!adapter) return undefined;
    p = new ProgressMessage({
      adapter,
      address: job.deliverTo,
      key: `comfyui:${job.promptId}`,
      intervalMs: this.#cfg.progressIntervalMs,
      log: this.#log,
      onMessageId: () => {},
    });
    this.#progress.set(job.promptId, p);
    return p;
  }

  /** Output images (type "output" first, previews only when there is nothing else), within the limits. */
  async #collectImages(
    client: ComfyClient,
    entry: HistoryEntry,
  ): Promise<{ media: MediaItem[]; notes: string[] }> {
    const all: ImageRef[] = [];
    for (const out of Object.values(entry.outputs ?? {}))
      all.push(...(out.images ?? []), ...(out.gifs ?? []));
    const saved = all.filter((i) => i.type === "output");
    const refs = saved.length ? saved : all;
    const max = this.#cfg.maxImages;
    const maxBytes = Math.floor(this.#cfg.maxImageMB * 1024 * 1024);
    const media: MediaItem[] = [];
    const notes: string[] = [];
    if (refs.length > max)
      notes.push(`(${refs.length - max} more image(s) not sent: the limit is ${max} per job)`);
    for (const ref of refs.slice(0, max)) {
      try {
        let { bytes, mime } = await client.view(ref, maxBytes);
        let filename = ref.filename;
        if (bytes.length > maxBytes && mime.startsWith("image/")) {
          // Too big to send as is: a high-quality JPEG at most 2048 px usually fits.
          bytes = await sharp(bytes)
            .resize(2048, 2048, { fit: "inside", withoutEnlargement: true })
            .jpeg({ quality: 85 })
            .toBuffer();
          mime = "image/jpeg";
          filename = filename.replace(/\.[^.]+$/, "") + ".jpg";
        }
        if (bytes.length > maxBytes) {
          notes.push(
            `(${ref.filename} not sent: ${(bytes.length / 1048576).toFixed(1)} MB is over the ${this.#cfg.maxImageMB} MB limit)`,
          );
          continue;
        }
        media.push({ dataBase64: bytes.toString("base64"), mime, filename });
      } catch (err) {
        notes.push(`(${ref.filename} could not be fetched: ${(err as Error).message})`);
      }
    }
    return { media, notes };
  }

  #clientFor(url: string): ComfyClient {
    return this.#pool.byUrl(url)?.client ?? new ComfyClient(url, { timeoutMs: this.#cfg.requestTimeoutMs });
  }
}

function errorOf(d: Record<string, unknown>): NonNullable<JobRecord["error"]> {
  const tb = Array.isArray(d.traceback) ? (d.traceback as string[]).slice(-3).join("").trim() : undefined;
  return {
    nodeId: d.node_id !== undefined ? String(d.node_id) : undefined,
    nodeType: d.node_type ? String(d.node_type) : undefined,
    message: String(d.exception_message ?? "unknown error").trim(),
    traceback: tb,
  };
}

export const short = (promptId: string) => promptId.slice(0, 8);
