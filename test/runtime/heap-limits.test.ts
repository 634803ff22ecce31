// The heap limits, each measured in a child process of its own (V8 flags are per process) against the same child
// without them: a burst of short-lived allocations with many survivors grows V8's new space to 128 MB and, with
// a live set kept beside it, the old space to several times that live set. With the limits both stay close.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";

const MODULE = resolve(import.meta.dirname, "../../src/runtime/heap-limits.ts");

/** The largest new and old space (MB) seen while the child allocates, with or without limitHeapGrowth(). */
function largestSpacesMb(limited: string): { young: number; old: number } {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { limitHeapGrowth } from ${JSON.stringify(MODULE)};
    ${limited}
    const live = [];
    for (let i = 0; i < 300000; i++) live.push({ i, text: "live " + i });
    const keep = [];
    const max = { young: 0, old: 0 };
    for (let round = 0; round < 500; round++) {
      const batch = [];
      for (let i = 0; i < 20000; i++) batch.push({ i, text: "message " + i });
      keep.push(batch);
      if (keep.length > 30) keep.shift();
      for (const s of getHeapSpaceStatistics()) {
        if (s.space_name === "new_space") max.young = Math.max(max.young, s.space_size);
        if (s.space_name === "old_space") max.old = Math.max(max.old, s.space_size);
      }
      await new Promise((r) => setImmediate(r)); // like a server: work in turns, collections observed between them
    }
    console.log(JSON.stringify({ young: Math.round(max.young / 1048576), old: Math.round(max.old / 1048576) }));
  `;
  const env = { ...process.env, NODE_OPTIONS: "" };
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { env }).toString();
  return JSON.parse(out) as { young: number; old: number };
}

test("the new space stays near 32 MB; asked for, the old space stays well below V8's own sizing", () => {
  const own = largestSpacesMb("");
  const limited = largestSpacesMb("limitHeapGrowth({ oldGrowthPercent: 100 });");
  const byDefault = largestSpacesMb("limitHeapGrowth();");
  assert.ok(byDefault.young <= 64, `by default the new space reached ${byDefault.young} MB`);
  assert.ok(own.young > 64, `V8's own sizing grows the new space (${own.young} MB): the burst is big enough`);
  assert.ok(limited.young <= 64, `with the limit the new space reached ${limited.young} MB`);
  assert.ok(
    limited.old < own.old * 0.75,
    `old space at the highest: ${limited.old} MB limited against ${own.old} MB on V8's own sizing`,
  );
});
