// Summarizes a V8 .cpuprofile (from `npm run bench:ingest -- --cpu-prof`): the functions with the most self
// time and the most inclusive time, so the hot path shows without opening DevTools.
//   node bench/ingest/profile-summary.ts <file.cpuprofile> [top]
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [top]");
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[] };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^.*\/(node_modules|src|bench)\//, "$1/").replace(/^node:/, "");
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
};
const total = profile.nodes.reduce((a, n) => a + n.hitCount, 0);
const self = new Map<string, number>();
for (const n of profile.nodes) self.set(label(n), (self.get(label(n)) ?? 0) + n.hitCount);

// Inclusive time: a function's own hits plus its callees', counted once per stack even under recursion.
const inclusive = new Map<string, number>();
const walk = (id: number, onStack: Set<string>): number => {
  const n = byId.get(id)!;
  let sum = n.hitCount;
  const l = label(n);
  const fresh = !onStack.has(l);
  if (fresh) onStack.add(l);
  for (const c of n.children ?? []) sum += walk(c, onStack);
  if (fresh) {
    onStack.delete(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + sum);
  }
  return sum;
};
walk(profile.nodes[0]!.id, new Set());

const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [l, h] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((h / total) * 100).toFixed(1).padStart(5)} %  ${l}`);
};
print("self time", self);
print("inclusive time", inclusive);
