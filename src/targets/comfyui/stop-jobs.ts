// /stop: a queued job is taken off its server's queue, a running one is interrupted. The server has the last
// word: the job ends when its events (or /history) say so, except a removed one, which never will.
import type { ComfyClient } from "./client.ts";
import { isOpen, type JobRecord, type JobStore } from "./job-store.ts";
import type { ServerState } from "./pool.ts";

export interface StopDeps {
  jobs: JobStore;
  servers: readonly ServerState[];
  clientFor: (url: string) => ComfyClient;
  /** Ends a job that was taken off the queue. */
  removed: (job: JobRecord) => Promise<void>;
}

export const short = (promptId: string) => promptId.slice(0, 8);

/** Interrupts running jobs and removes queued ones; without ids, every open job of this gateway. */
export async function stopJobs(ids: string[], on: StopDeps): Promise<string[]> {
  const lines: string[] = [];
  const targets = ids.length ? await Promise.all(ids.map((id) => on.jobs.find(id))) : await on.jobs.open();
  if (!ids.length) {
    // The seed's global interrupt: whatever is running on every server stops, ours or not.
    for (const s of on.servers) await s.client.interrupt().catch(() => {});
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
    const client = on.clientFor(job.server);
    try {
      const q = await client.queue();
      if (q.pending.includes(job.promptId)) {
        await client.deleteQueued([job.promptId]);
        await on.removed(job);
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
