import assert from "node:assert/strict";
import { it } from "node:test";
import { Pacer } from "../../src/runtime/pacer.ts";

it("lets a burst through, then spaces sends at the rate of the tightest bucket", () => {
  let now = 0;
  const p = new Pacer(() => now);
  const chat = { key: "chat:1", ratePerSec: 1, burst: 1 };
  const global = { key: "global", ratePerSec: 30, burst: 30 };
  assert.equal(p.tryTake([chat, global]), 0);
  assert.equal(p.tryTake([chat, global]), 1000, "second message to the same chat waits a second");
  assert.equal(
    p.tryTake([{ key: "chat:2", ratePerSec: 1, burst: 1 }, global]),
    0,
    "another chat is not held up",
  );
  now = 1000;
  assert.equal(p.tryTake([chat, global]), 0);
});

it("after a 429 only the blocked key waits, for the platform's retry-after", () => {
  let now = 0;
  const p = new Pacer(() => now);
  p.block("chat:1", 5000);
  assert.equal(p.tryTake([{ key: "chat:1", ratePerSec: 10, burst: 10 }]), 5000);
  assert.equal(p.tryTake([{ key: "chat:2", ratePerSec: 10, burst: 10 }]), 0);
  now = 5000;
  assert.equal(p.tryTake([{ key: "chat:1", ratePerSec: 10, burst: 10 }]) <= 100, true);
});

it("a spacing bucket counts its interval from the platform's answer (settle), not from the take", () => {
  let now = 0;
  const p = new Pacer(() => now);
  const chat = { key: "chat:1", ratePerSec: 1, burst: 1 };
  const global = { key: "global", ratePerSec: 30, burst: 30 };
  assert.equal(p.tryTake([chat, global]), 0);
  now = 400; // the request took 400 ms to arrive and be answered
  p.settle([chat, global]);
  now = 1000;
  assert.equal(p.tryTake([chat, global]), 400, "one full interval after the answer, not after the take");
  now = 1400;
  assert.equal(p.tryTake([chat, global]), 0);
  assert.equal(p.tryTake([global]), 0, "the global bucket's burst was not thrown away");
});

it("run: consecutive calls reach the platform one interval apart however long each takes to arrive", async () => {
  const p = new Pacer();
  const chat = [{ key: "chat:1", ratePerSec: 20, burst: 1 }]; // 50 ms apart
  const arrivals: number[] = [];
  const transit = [30, 0, 45, 0, 20, 0];
  for (const delay of transit) {
    await p.run(chat, async () => {
      // The platform records the request only once it has crossed the network…
      await new Promise((r) => setTimeout(r, delay));
      arrivals.push(performance.now());
    });
  }
  const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
  // Timers never fire early; the 1 ms allows for performance.now() and setTimeout rounding differently.
  for (const gap of gaps)
    assert.ok(gap >= 49, `arrivals ${gaps.map((g) => g.toFixed(1)).join(", ")} ms apart`);
});
