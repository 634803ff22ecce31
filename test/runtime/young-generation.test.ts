// The young-generation cap, in a child process of its own (V8 flags are per process): a burst of short-lived
// allocations with many survivors, which without the cap grows V8's new space to 128 MB, stays within one
// growth step of the cap.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { test } from "node:test";

const MODULE = resolve(import.meta.dirname, "../../src/runtime/young-generation.ts");

/** The largest new space seen while the child allocates; `cap` applies capYoungGeneration(cap) first. */
function largestNewSpaceMb(cap?: number): number {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { capYoungGeneration } from ${JSON.stringify(MODULE)};
    ${cap ? `capYoungGeneration(${cap});` : ""}
    const keep = [];
    let max = 0;
    for (let round = 0; round < 300; round++) {
      const batch = [];
      for (let i = 0; i < 20000; i++) batch.push({ i, text: "message " + i });
      keep.push(batch);
      if (keep.length > 30) keep.shift();
      const size = getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
      max = Math.max(max, size);
      await new Promise((r) => setImmediate(r)); // like a server: work in turns, collections observed between them
    }
    console.log(Math.round(max / 1048576));
  `;
  const env = { ...process.env, NODE_OPTIONS: "" };
  return Number(execFileSync(process.execPath, ["--input-type=module", "-e", script], { env }).toString());
}

test("the new space stays near the cap through an allocation burst", () => {
  const uncapped = largestNewSpaceMb();
  const capped = largestNewSpaceMb(32);
  assert.ok(uncapped > 64, `without the cap V8 grows it (${uncapped} MB): the burst is big enough to tell`);
  assert.ok(capped <= 64, `with a 32 MB cap it reached ${capped} MB`);
});
