// How an open job is followed. ComfyUI sends a prompt's events only to the client id that submitted it, so a
// job clawgate submitted with its own (stable) client id is followed through /ws, with /history as a slow
// safety net; a job someone else submitted (the ComfyUI-OpenClaw extension uses its own random client id,
// and jobs from before the client id was stable) never sends clawgate an event and is polled at a short
// interval instead, with its state taken from /queue and /history.
import type { QueueState } from "./client.ts";

export type FollowMode = "events" | "poll";

export function followMode(job: { clientId?: string }, ownClientId: string): FollowMode {
  return job.clientId === ownClientId ? "events" : "poll";
}

/** Whether a job is due for a look at /queue and /history, given when it was last heard of or checked. */
export function isDue(
  mode: FollowMode,
  lastSeen: number | undefined,
  now: number,
  intervals: { reconcileIntervalMs: number; pollIntervalMs: number },
): boolean {
  if (lastSeen === undefined) return true;
  return now - lastSeen >= (mode === "poll" ? intervals.pollIntervalMs : intervals.reconcileIntervalMs);
}

/** Where a queue has the job: running, or waiting behind `ahead` others; undefined when it is not there. */
export function queuePlace(
  q: QueueState,
  promptId: string,
): { running: true } | { running: false; ahead: number } | undefined {
  if (q.running.includes(promptId)) return { running: true };
  const i = q.pending.indexOf(promptId);
  return i === -1 ? undefined : { running: false, ahead: q.running.length + i };
}
