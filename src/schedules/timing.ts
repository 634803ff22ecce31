// When a schedule's ticks fall: a cron expression (croner, optional time zone) or a fixed interval anchored at
// the schedule's creation, so tick times are the same on every replica and after a restart. Pure.
import { Cron } from "croner";

export interface Timing {
  cron?: string;
  timezone?: string;
  everySec?: number;
  /** Interval ticks fall on anchorAt + k × everySec. */
  anchorAt: number;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "10m", "2h", "1d" or a number of seconds → seconds. */
export function parseInterval(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text);
  if (!m) return undefined;
  const sec = Math.round(Number(m[1]) * (UNITS[(m[2] || "s").toLowerCase()] ?? 1));
  return sec >= 1 ? sec : undefined;
}

/** Throws a message a person can act on when the expression or time zone is not valid. */
export function validateCron(expr: string, timezone?: string) {
  try {
    new Cron(expr, { timezone, paused: true });
  } catch (err) {
    throw new Error(
      `"${expr}" is not a valid cron expression (${(err as Error).message}); e.g. "0 9 * * *" for 09:00 daily`,
    );
  }
}

/** The first tick strictly after `after` (ms), or undefined when there is none (a cron that never fires again). */
export function nextTickAfter(t: Timing, after: number): number | undefined {
  if (t.everySec) {
    const step = t.everySec * 1000;
    const k = Math.floor((after - t.anchorAt) / step) + 1;
    return t.anchorAt + Math.max(1, k) * step;
  }
  if (!t.cron) return undefined;
  const next = new Cron(t.cron, { timezone: t.timezone, paused: true }).nextRun(new Date(after));
  return next ? next.getTime() : undefined;
}

export function describeTiming(t: Pick<Timing, "cron" | "everySec" | "timezone">): string {
  if (t.everySec) {
    const s = t.everySec;
    const unit =
      s % 86_400 === 0
        ? [s / 86_400, "d"]
        : s % 3600 === 0
          ? [s / 3600, "h"]
          : s % 60 === 0
            ? [s / 60, "m"]
            : [s, "s"];
    return `every ${unit[0]}${unit[1]}`;
  }
  return `cron "${t.cron}"${t.timezone ? ` (${t.timezone})` : ""}`;
}
