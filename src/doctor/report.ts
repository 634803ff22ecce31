// The report: one line per check (✓ ok, ! warn, ✗ fail, - skip) with its fix under it, and the verdict.
import type { DoctorCheck } from "../channels/types.ts";

const MARK: Record<DoctorCheck["status"], string> = { ok: "✓", warn: "!", fail: "✗", skip: "-" };

export function formatReport(checks: DoctorCheck[]): string {
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${MARK[c.status]} ${c.title}: ${c.detail.replace(/\n/g, "\n  ")}`);
    if (c.fix && c.status !== "ok") lines.push(`    fix: ${c.fix}`);
  }
  const fails = checks.filter((c) => c.status === "fail").length;
  const warns = checks.filter((c) => c.status === "warn").length;
  lines.push("");
  lines.push(
    fails
      ? `${fails} problem(s) block clawgate or a channel${warns ? `, ${warns} warning(s)` : ""}.`
      : warns
        ? `Nothing blocks clawgate; ${warns} warning(s).`
        : "All checks passed.",
  );
  return `${lines.join("\n")}\n`;
}

/** 1 when anything blocks the gateway or a channel. */
export function exitCode(checks: DoctorCheck[]): number {
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}
