import assert from "node:assert/strict";
import { it } from "node:test";
import { CommandRateLimiter, SlidingWindowLimiter } from "../../src/core/rate-limit.ts";

it("sliding window: the 11th command in a minute is refused until the oldest leaves the window", () => {
  const l = new SlidingWindowLimiter(10, 60_000);
  for (let i = 0; i < 10; i++) assert.equal(l.take("u", 1000 + i).ok, true);
  const r = l.take("u", 2000);
  assert.equal(r.ok, false);
  assert.equal((r as { retryAfterMs: number }).retryAfterMs, 59_000);
  assert.equal(l.take("u", 61_001).ok, true);
  assert.equal(l.take("other", 2000).ok, true, "keys are independent");
});

it("commands: 10/min per user and 30/min per channel, with a message saying when to retry", () => {
  const l = new CommandRateLimiter({ perUserPerMinute: 10, perChannelPerMinute: 30 });
  for (let i = 0; i < 10; i++) assert.equal(l.check("chat", "alice", i).ok, true);
  const r = l.check("chat", "alice", 10);
  assert.equal(r.ok, false);
  assert.match((r as { message: string }).message, /too many commands from you/);
  for (let u = 0; u < 20; u++) l.check("chat", `user${u}`, 20);
  const c = l.check("chat", "zed", 30);
  assert.equal(c.ok, false);
  assert.match((c as { message: string }).message, /this chat/);
});
