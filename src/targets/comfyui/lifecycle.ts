// A job's life without I/O: what a /ws event or a /history entry means for the job, and what an ending writes
// (state, trace line) and says (the chat message, the progress line's last words). The tracker does the I/O.
import type { OutboundMessage } from "../../channels/types.ts";
import { formatSessionKey } from "../../core/session-key.ts";
import type { HistoryEntry } from "./client.ts";
import type { ComfyEvent } from "./events.ts";
import type { JobRecord } from "./job-store.ts";
import { progressLine } from "./progress.ts";

export type JobError = NonNullable<JobRecord["error"]>;
type TraceEntry = JobRecord["trace"][number];

/** How a job ended. */
export type Outcome =
  | { kind: "done"; images: number; notes: string[]; seconds?: number }
  | { kind: "error"; error: JobError }
  | { kind: "stopped"; how: string };

/** What one /ws event asks of the tracker. */
export type EventStep =
  | { kind: "progress"; value: number; max: number; node?: string }
  | { kind: "started" }
  /** The job ended well; its outputs are in /history (perhaps a moment later). */
  | { kind: "success" }
  | { kind: "ended"; outcome: Outcome }
  | { kind: "ignore" };

export function eventStep(e: ComfyEvent): EventStep {
  switch (e.type) {
    case "progress": {
      const node = e.data.node ? String(e.data.node) : undefined;
      return { kind: "progress", value: Number(e.data.value), max: Number(e.data.max), node };
    }
    case "execution_start":
      return { kind: "started" };
    case "execution_success":
      return { kind: "success" };
    case "executing":
      // ComfyUI's older end marker: executing with node null.
      return e.data.node === null ? { kind: "success" } : { kind: "ignore" };
    case "execution_error":
      return { kind: "ended", outcome: { kind: "error", error: errorOf(e.data) } };
    case "execution_interrupted":
      return { kind: "ended", outcome: { kind: "stopped", how: "interrupted" } };
    default:
      return { kind: "ignore" };
  }
}

/** Event types after which the job is over (whatever the record says yet). */
export const isTerminalEvent = (type: string) =>
  type === "execution_success" || type === "execution_error" || type === "execution_interrupted";

/** What a /history entry says: ended badly, still going, or complete (outputs to collect). */
export function historyStep(
  entry: HistoryEntry,
): { kind: "ended"; outcome: Outcome } | { kind: "running" } | { kind: "complete" } {
  const status = entry.status;
  const messages = status?.messages ?? [];
  const err = messages.find(([t]) => t === "execution_error");
  if (err) return { kind: "ended", outcome: { kind: "error", error: errorOf(err[1]) } };
  if (messages.some(([t]) => t === "execution_interrupted"))
    return { kind: "ended", outcome: { kind: "stopped", how: "interrupted" } };
  if (status?.status_str === "error")
    return {
      kind: "ended",
      outcome: { kind: "error", error: { message: "ComfyUI reported an error without details" } },
    };
  if (status && status.completed === false && status.status_str !== "success") return { kind: "running" };
  return { kind: "complete" };
}

/** The server answers but has neither queued nor finished the job. */
export const serverLost = (server: string): Outcome => ({
  kind: "error",
  error: {
    message: `ComfyUI at ${server} no longer knows this job (was it restarted or its history cleared?). Run it again.`,
  },
});

/** A submit that was never answered, and the job never showed up on the server. */
export const neverQueued = (server: string): Outcome => ({
  kind: "error",
  error: {
    message: `ComfyUI at ${server} did not answer the submit in time and never queued the job. Run it again.`,
  },
});

export interface Ending {
  /** Fields of the record that change. */
  patch: Pick<JobRecord, "state"> & Partial<Pick<JobRecord, "error" | "images" | "finishedAt">>;
  trace: TraceEntry;
  message: OutboundMessage;
  /** Part of the idempotency key: one message per job and ending. */
  deliveryKind: "result" | "error" | "stopped";
  /** The progress line's last words. */
  progress: string;
}

export function ending(job: Pick<JobRecord, "promptId" | "template">, outcome: Outcome, now: number): Ending {
  const ref = `(job ${job.promptId})`;
  if (outcome.kind === "done") {
    const { images, notes } = outcome;
    const seconds = outcome.seconds !== undefined ? ` in ${outcome.seconds} s` : "";
    const what = images ? `${images} image${images > 1 ? "s" : ""}` : "no images in the output";
    return {
      patch: { state: "done", images, finishedAt: now },
      trace: {
        at: now,
        event: "done",
        detail: `${images} image(s) delivered${notes.length ? `; ${notes.join("; ")}` : ""}`,
      },
      message: {
        text: `✅ ${job.template} finished${seconds} — ${what} ${ref}${notes.length ? `\n${notes.join("\n")}` : ""}`,
      },
      deliveryKind: "result",
      progress: `✅ ${job.template} done`,
    };
  }
  if (outcome.kind === "error") {
    const { error } = outcome;
    const where = error.nodeId
      ? ` at node ${error.nodeId}${error.nodeType ? ` (${error.nodeType})` : ""}`
      : "";
    return {
      patch: { state: "error", error, finishedAt: now },
      trace: { at: now, event: "execution_error", detail: `${where.trim()} ${error.message}`.trim() },
      message: { text: `❌ ${job.template} failed${where}: ${error.message} ${ref}`, kind: "error" },
      deliveryKind: "error",
      progress: `❌ ${job.template} failed`,
    };
  }
  return {
    patch: { state: "stopped", finishedAt: now },
    trace: { at: now, event: "stopped", detail: outcome.how },
    message: { text: `⏹ ${job.template} stopped (${outcome.how}) ${ref}`, kind: "notice" },
    deliveryKind: "stopped",
    progress: `⏹ ${job.template} stopped`,
  };
}

/** A job just handed to a server (or adopted from the extension), queued until the server says more. */
export function newJob(
  j: {
    promptId: string;
    server: string;
    serverName: string;
    req: Pick<
      JobRecord,
      "template" | "inputs" | "deliverTo" | "requestedBy" | "source" | "approvalId" | "scheduleId"
    >;
    nodeTypes: Record<string, string>;
    note: string;
    clientId?: string;
    unconfirmed: boolean;
  },
  now: number,
): JobRecord {
  const { req } = j;
  return {
    promptId: j.promptId,
    server: j.server,
    serverName: j.serverName,
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
    nodeTypes: j.nodeTypes,
    clientId: j.clientId,
    ...(j.unconfirmed ? { unconfirmed: true } : {}),
    trace: [
      {
        at: now,
        event: j.unconfirmed ? "submit_unanswered" : "submitted",
        detail: `to ${j.serverName} (${j.server})${j.note ? `, ${j.note}` : ""}`,
      },
    ],
  };
}

/** The job began running (seen on the socket or in /queue). */
export function startedStep(job: Pick<JobRecord, "template" | "serverName">, detail: string, now: number) {
  return {
    patch: { state: "running" as const, unconfirmed: undefined, startedAt: now },
    trace: { at: now, event: "execution_start", detail } satisfies TraceEntry,
    progress: `⏳ ${job.template} started on ${job.serverName}`,
  };
}

export function progressText(
  job: Pick<JobRecord, "template" | "serverName" | "nodeTypes">,
  value: number,
  max: number,
  node?: string,
): string {
  return `⏳ ${job.template} on ${job.serverName}: ${progressLine(value, max, node, node ? job.nodeTypes[node] : undefined)}`;
}

export function errorOf(d: Record<string, unknown>): JobError {
  const tb = Array.isArray(d.traceback) ? (d.traceback as string[]).slice(-3).join("").trim() : undefined;
  return {
    nodeId: d.node_id !== undefined ? String(d.node_id) : undefined,
    nodeType: d.node_type ? String(d.node_type) : undefined,
    message: String(d.exception_message ?? "unknown error").trim(),
    traceback: tb,
  };
}
