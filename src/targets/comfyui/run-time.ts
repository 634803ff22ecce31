// How long a job ran, for "finished in 34 s". ComfyUI's history keeps the execution_start and the final
// message with their timestamps (ms), which is right even when the gateway was down while the job ran; the
// gateway's own clock is used only when it saw the start itself.
import type { HistoryEntry } from "./client.ts";

const END = ["execution_success", "execution_error", "execution_interrupted"];

export function runSeconds(
  entry: HistoryEntry | undefined,
  local: { startedAt?: number; trackerStartedAt: number; now: number },
): number | undefined {
  const messages = entry?.status?.messages ?? [];
  const at = (types: string[]) => {
    const m = messages.find(([t]) => types.includes(t));
    const ts = m?.[1]?.timestamp;
    return typeof ts === "number" && Number.isFinite(ts) ? ts : undefined;
  };
  const start = at(["execution_start"]);
  const end = at(END);
  if (start !== undefined && end !== undefined && end >= start) return Math.round((end - start) / 1000);
  if (local.startedAt !== undefined && local.startedAt >= local.trackerStartedAt)
    return Math.round((local.now - local.startedAt) / 1000);
  return undefined;
}
