// The shape docs/architecture.md promises, checked on every run: no cycle between src/ folders (a channel never
// needs the gateway that hosts it, and the gateway reaches channels only through their module API), and no
// source file grows past the size a reader takes in at one sitting.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const SRC = resolve(import.meta.dirname, "../../src");
const MAX_LINES = 420;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** The folder a file belongs to for this check: src/<top>/. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split("/");
  return parts.length === 1 ? "." : parts[0]!;
}

/** Value imports only: `import type` leaves nothing at run time, so it cannot make a load-order cycle. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/^\s*(?:import|export)\s(?!type\s)[^;]*?from\s+"(\.[^"]+)"/gms)].map(
    (m) => m[1]!,
  );
  return specs.map((s) => resolve(dirname(file), s)).filter((p) => p.startsWith(SRC));
}

test("no cycle between src/ folders", () => {
  const edges = new Map<string, Set<string>>();
  for (const file of sourceFiles(SRC)) {
    const from = folderOf(file);
    for (const target of importsOf(file)) {
      const to = folderOf(target);
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (node: string, path: string[]) => {
    if (state.get(node) === "done") return;
    if (state.get(node) === "open") {
      cycles.push([...path.slice(path.indexOf(node)), node].join(" → "));
      return;
    }
    state.set(node, "open");
    for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    state.set(node, "done");
  };
  for (const node of edges.keys()) visit(node, []);
  assert.deepEqual(cycles, [], `folder cycles:\n${cycles.join("\n")}`);
});

test(`no source file over ${MAX_LINES} lines`, () => {
  const long = sourceFiles(SRC)
    .map((f) => ({ f: relative(SRC, f), n: readFileSync(f, "utf8").split("\n").length }))
    .filter((x) => x.n > MAX_LINES)
    .map((x) => `${x.f}: ${x.n}`);
  assert.deepEqual(long, [], `files over ${MAX_LINES} lines:\n${long.join("\n")}`);
});
