// How far V8 lets the heap grow past what the gateway really uses. Left to itself, V8 sizes for throughput: a
// burst grows the young generation (the new space, where every request's short-lived objects start) to 128 MB on
// this Node and keeps it, and the old space may reach four times the live heap before a full collection. With
// 1,000 Telegram bots the live heap stayed at 60–75 MB through five rounds of one message per bot, while the
// process grew from 150 MB idle to 440 MB. Two limits keep it near what is used:
//
// - the new space stays at 32 MB, what `--max-semi-space-size=16` does. That size can only be given when Node
//   starts, so the cap is kept from inside: after each collection, growth is switched off once the new space
//   has reached the cap and on again when V8 has shrunk it;
// - a full collection comes once the old space has doubled since the last one (V8 reads that factor at each
//   full collection, so it can be set now).
//
// Same bots: 260 MB at the highest over five rounds, answers as fast. An operator's own flags for either win.
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

export interface HeapLimits {
  /** Largest new space, MB (default 32). */
  youngMb?: number;
  /** Old-space growth allowed between full collections, percent of what survived the last (default 100). */
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

  if (!/heap[-_]growing[-_]percent/.test(given)) {
    trySetFlag(`--heap-growing-percent=${o.oldGrowthPercent ?? 100}`);
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
