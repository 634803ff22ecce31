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

it("over the limit a sender is told once per window, then refused silently until it reopens", () => {
  const l = new CommandRateLimiter({ perUserPerMinute: 2, perChannelPerMinute: 100 });
  assert.equal(l.check("chat", "alice", 0).ok, true);
  assert.equal(l.check("chat", "alice", 1).ok, true);
  const first = l.check("chat", "alice", 2);
  assert.deepEqual(
    { ok: first.ok, notify: (first as { notify: boolean }).notify },
    { ok: false, notify: true },
  );
  for (let t = 3; t < 60_000; t += 1000) {
    const r = l.check("chat", "alice", t);
    assert.equal(r.ok, false);
    assert.equal((r as { notify: boolean }).notify, false, `told again at ${t}`);
  }
  assert.equal(l.check("chat", "alice", 60_001).ok, true, "the window reopened");
  assert.equal(l.check("chat", "alice", 60_002).ok, true);
  const again = l.check("chat", "alice", 60_003);
  assert.equal((again as { notify: boolean }).notify, true, "a new window, a new notice");
});

it("a chat over its limit is told once, not once per member", () => {
  const l = new CommandRateLimiter({ perUserPerMinute: 100, perChannelPerMinute: 3 });
  for (let u = 0; u < 3; u++) assert.equal(l.check("chat", `u${u}`, u).ok, true);
  const notices = Array.from({ length: 20 }, (_, u) => l.check("chat", `v${u}`, 10 + u)).filter(
    (r) => !r.ok && r.notify,
  );
  assert.equal(notices.length, 1);
});
