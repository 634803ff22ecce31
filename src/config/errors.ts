// Turns zod issues into messages that name the key path, what was expected and what was found — except the
// value of a secret (a token, key or password), which is described by its length only: these messages are
// printed to the terminal and logs.
import type { z } from "zod";
import { isSecretKey, maskConfig } from "./mask.ts";

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super(`Invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], input: unknown, prefix: string[] = []) {
  return issues.map((issue) => {
    const path = [...prefix, ...issue.path.map(String)];
    const where = path.length ? path.join(".") : "(top level)";
    const value = valueAt(input, issue.path);
    const key = path.at(-1) ?? "";
    const found =
      typeof value === "string" && isSecretKey(key)
        ? `a secret of ${value.length} characters, not shown`
        : describe(maskConfig(value));
    return `${where}: ${issue.message.replace(/^Invalid input: /, "")} (found ${found})`;
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
