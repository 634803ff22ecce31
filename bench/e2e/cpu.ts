// CPU time spent by the processes under test, read from /proc: a figure a shared machine stretches far less
// than throughput (other work takes turns on the cores, it does not make our work cost more cycles).
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** user + system CPU of one process, in ms; 0 once it is gone. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at ") ": utime and stime are 14th and 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU of every PostgreSQL backend serving `database` right now (their title names it), in ms. */
export function postgresBackendsCpuMs(database: string): number {
  let total = 0;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const title = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (title.startsWith("postgres: ") && title.includes(` ${database} `))
        total += processCpuMs(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}
