// What starting costs in resident memory that an idle gateway does not need, and how it is given back or never
// taken (issue 14: footprint; docs/benchmarks.md has the measurements).
//
// - The optimizing compilers. Loading some 500 modules calls the module resolver's functions (path and URL
//   handling) thousands of times, so V8 compiles them with Maglev and TurboFan, which pages in about 7 MB of the
//   node binary's own machine code that a gateway sitting idle never runs again. Start-up code runs once and gains
//   nothing from being optimized: `clawgate` starts with both compilers off and turns them on once the command
//   has started (for `start`: once the gateway is ready, before any message is handled), or after 3 s at the
//   latest. Bytecode and Sparkplug still run everything meanwhile. The flags are part of the compile cache's key,
//   so they are set before any of the gateway's modules is compiled, the same on every start, and the cache stays
//   valid.
// - The young generation. V8 grows it (to 16 MB a semi-space) for the burst of compiling and schema building and
//   keeps the pages resident though nearly empty once the gateway idles. One memory-reducing collection after
//   start-up gives them back; they grow again only if the load needs them.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const OPTIMIZING_COMPILERS = ["maglev", "turbofan"];

/**
 * Turns the optimizing compilers off until `resumeOptimizingCompilers()`, or `maxMs` at the latest: a start that
 * takes long (a thousand bots, each calling its platform before the gateway is ready) is real work that should
 * not run unoptimized for long.
 */
export function deferOptimizingCompilers(maxMs = 3000): void {
  for (const flag of OPTIMIZING_COMPILERS) setFlagsFromString(`--no-${flag}`);
  setTimeout(resumeOptimizingCompilers, maxMs).unref();
}

export function resumeOptimizingCompilers(): void {
  for (const flag of OPTIMIZING_COMPILERS) setFlagsFromString(`--${flag}`);
}

type Gc = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

export function releaseStartupMemory(): void {
  try {
    // Only a fresh context sees the flag: the gateway's own globals keep no gc().
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as Gc | undefined;
    gc?.({ type: "major", execution: "sync", flavor: "last-resort" });
  } catch {
    // A runtime without the flag: the memory is given back later by V8's own heuristics.
  }
}
