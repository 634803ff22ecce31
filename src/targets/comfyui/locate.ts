// Finding a job on a server after a POST /prompt whose outcome is unknown (a timeout: the server may have
// queued it). Every clawgate submission carries its own id twice: as the client-chosen prompt_id (used by
// ComfyUI since mid-2025) and in extra_data.clawgate.job (kept by every version, shown in /queue rows and in
// history entries), so a 2024 server that ignored the prompt_id is asked just as well.
import type { ComfyClient, HistoryEntry, QueueState } from "./client.ts";

/** How many recent history entries are searched for a job's mark. */
export const HISTORY_SCAN = 64;

/** The extra_data a clawgate submission carries. */
export function jobMark(jobId: string, meta: Record<string, unknown> = {}): Record<string, unknown> {
  return { clawgate: { job: jobId, ...meta } };
}

const markOf = (extra: unknown): string | undefined => {
  const c = (extra as { clawgate?: { job?: unknown } } | undefined)?.clawgate;
  return typeof c?.job === "string" ? c.job : undefined;
};

/** The prompt id under which a queue holds the job, if it does. */
export function findInQueue(q: QueueState, jobId: string): string | undefined {
  for (const id of [...q.running, ...q.pending]) if (id === jobId) return id;
  for (const [id, extra] of Object.entries(q.extra ?? {})) if (markOf(extra) === jobId) return id;
  return undefined;
}

/** The prompt id under which history entries hold the job (prompt[3] is the extra_data), if they do. */
export function findInHistory(entries: Record<string, HistoryEntry>, jobId: string): string | undefined {
  if (entries[jobId]) return jobId;
  for (const [id, e] of Object.entries(entries))
    if (Array.isArray(e.prompt) && markOf(e.prompt[3]) === jobId) return id;
  return undefined;
}

/**
 * Asks a server whether it has the job, running, queued or finished. Returns its prompt id there, or
 * undefined when the server answered and does not have it. Throws when the server does not answer: then
 * nobody knows.
 */
export async function locateJob(client: ComfyClient, jobId: string): Promise<string | undefined> {
  const inQueue = findInQueue(await client.queue(), jobId);
  if (inQueue) return inQueue;
  if (await client.history(jobId)) return jobId;
  return findInHistory(await client.recentHistory(HISTORY_SCAN), jobId);
}

/**
 * What to do with a job whose submit was not answered, after asking its server (`found`: its prompt id there).
 * Missing while the server answers is only final after `graceMs`: a late submit may still be in its hands.
 */
export function unconfirmedStep(
  found: string | undefined,
  missingSince: number | undefined,
  now: number,
  graceMs: number,
): { kind: "found"; promptId: string } | { kind: "wait"; missingSince: number } | { kind: "lost" } {
  if (found) return { kind: "found", promptId: found };
  if (missingSince === undefined) return { kind: "wait", missingSince: now };
  return now - missingSince < graceMs ? { kind: "wait", missingSince } : { kind: "lost" };
}
