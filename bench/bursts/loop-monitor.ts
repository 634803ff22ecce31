// Loaded into the gateway child with `--import` (bench/bursts/run.ts --loop-stats): records how long the event
// loop was blocked, so a slow /healthz can be told apart from a slow network or a slow driver. A 1 ms timer
// that fires late by more than 10 ms marks a block; the longest blocks and a delay histogram are written as
// JSON to LOOP_STATS_FILE when the process exits (`at`: when the block began, epoch ms; `cpuMs`: CPU time the
// main thread used meanwhile).
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.LOOP_STATS_FILE;
if (file) {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  const blocks: { at: number; ms: number; cpuMs: number; hr: number[] }[] = [];
  const origin = Date.now() - performance.now();
  const hrOrigin = Number(process.hrtime.bigint()) / 1e6 - performance.now();
  let last = performance.now();
  let lastCpu = process.threadCpuUsage();
  setInterval(() => {
    const now = performance.now();
    const cpu = process.threadCpuUsage();
    const late = now - last - 1;
    if (late > 10) {
      // The main thread's CPU time as well as wall time: on a shared machine a block can be this process
      // waiting for a core, which no change to clawgate shortens.
      const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      // hr: the block's span on the monotonic clock in µs, the clock a --cpu-prof profile's timestamps use.
      const hr = [Math.round((hrOrigin + last) * 1000), Math.round((hrOrigin + now) * 1000)];
      blocks.push({ at: Math.round(origin + last), ms: round(late), cpuMs: round(cpuMs), hr });
    }
    last = now;
    lastCpu = cpu;
  }, 1).unref();
  // The main thread's CPU time so far, every 100 ms: CPU per event drained is a throughput measure that does
  // not depend on how many other processes share the cores.
  const cpuAt: { at: number; cpuMs: number }[] = [];
  setInterval(() => {
    const { user, system } = process.threadCpuUsage();
    cpuAt.push({ at: Date.now(), cpuMs: (user + system) / 1000 });
  }, 100).unref();
  process.once("exit", () => {
    histogram.disable();
    const q = (p: number) => histogram.percentile(p) / 1e6;
    writeFileSync(
      file,
      JSON.stringify({
        p50: q(50),
        p99: q(99),
        max: histogram.max / 1e6,
        blocks,
        cpuAt,
      }),
    );
  });
}

function round(ms: number) {
  return Math.round(ms * 10) / 10;
}
