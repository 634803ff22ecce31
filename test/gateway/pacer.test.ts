import assert from "node:assert/strict";
import { it } from "node:test";
import { Pacer } from "../../src/gateway/pacer.ts";

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
