// How far V8 lets the heap grow past what the gateway really uses. Left to itself, V8 sizes for throughput: a
// burst grows the young generation (the new space, where every request's short-lived objects start) to 128 MB on
// this Node and keeps it, and the old space may reach four times the live heap before a full collection. With
// 1,000 Telegram bots the live heap stayed at 60–75 MB through five rounds of one message per bot, while the
// process grew from 150 MB idle to 320 MB after one round, and to 390–440 MB after five even with the first
// limit below (docs/benchmarks.md, "Many bots in one process"). Two limits:
//
// - always: the new space stays at 32 MB, what `--max-semi-space-size=16` does. That size can only be given
//   when Node starts, so the cap is kept from inside: after each collection, growth is switched off once the
//   new space has reached the cap and on again when V8 has shrunk it. One round of 1,000 bots: 320 → 230 MB.
// - on request (CLAWGATE_HEAP_GROWTH_PERCENT, e.g. 100): a full collection once the old space has grown by that
//   much since the last one (V8 reads the factor at each full collection, so it can be set now). Five rounds:
//   390–440 → 260–267 MB. Not the default: end-to-end throughput looked up to a fifth lower with it on a loaded
//   machine, which could not be told from noise there.
//
// An operator's own flags for either win.
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

export interface HeapLimits {
  /** Largest new space, MB (default 32). */
  youngMb?: number;
  /**
   * Old-space growth allowed between full collections, percent of what survived the last; unset leaves it to V8
   * (default: CLAWGATE_HEAP_GROWTH_PERCENT when set).
   */
  oldGrowthPercent?: number;
}

const newSpaceBytes = () =>
  getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.space_size ?? 0;

const trySetFlag = (flag: string): boolean => {
  try {
    setFlagsFromString(flag);
    return true;
  } catch {
    return false; // a runtime without the flag keeps V8's own sizing
  }
};

/** Applies the limits to this process; returns a function that gives V8 its own sizing back. */
export function limitHeapGrowth(o: HeapLimits = {}): () => void {
  const given = `${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`;
  const undo: (() => void)[] = [];

  const growth = o.oldGrowthPercent ?? (Number(process.env.CLAWGATE_HEAP_GROWTH_PERCENT) || undefined);
  if (growth !== undefined && growth > 0 && !/heap[-_]growing[-_]percent/.test(given)) {
    trySetFlag(`--heap-growing-percent=${Math.round(growth)}`);
    undo.push(() => trySetFlag("--heap-growing-percent=0"));
  }

  if (!/semi[-_]space/.test(given)) {
    const cap = (o.youngMb ?? 32) * 1024 * 1024;
    let growing = true;
    const setGrowth = (grow: boolean) => {
      if (grow !== growing && trySetFlag(`--semi-space-growth-factor=${grow ? 2 : 1}`)) growing = grow;
    };
    const observer = new PerformanceObserver(() => setGrowth(newSpaceBytes() < cap));
    observer.observe({ entryTypes: ["gc"] });
    setGrowth(newSpaceBytes() < cap);
    undo.push(() => {
      observer.disconnect();
      setGrowth(true);
    });
  }
  return () => {
    for (const u of undo) u();
  };
}
