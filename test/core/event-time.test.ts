// A platform's send time becomes InboundEvent.sentAt only when it is a time: the stale-event rule compares it
// with the clock, so Infinity or NaN must never get through.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { sentAtFrom } from "../../src/core/event.ts";

test("seconds and milliseconds become milliseconds; anything that is not a time is undefined", () => {
  assert.equal(sentAtFrom(1_700_000_000, "s"), 1_700_000_000_000);
  assert.equal(sentAtFrom("1700000000", "s"), 1_700_000_000_000);
  assert.equal(sentAtFrom(1_700_000_000_123, "ms"), 1_700_000_000_123);
  // Slack's event_time found by the property test: finite in seconds, Infinity in milliseconds.
  assert.equal(sentAtFrom(1.797693134862316e305, "s"), undefined);
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "12a", "", null, undefined, {}, 1e16]) {
    assert.equal(sentAtFrom(bad, "ms"), undefined, String(bad));
  }
});

test("property: whatever the payload holds, sentAt is undefined or a finite time a Date can hold", () => {
  fc.assert(
    fc.property(fc.anything(), fc.constantFrom("s" as const, "ms" as const), (value, unit) => {
      const t = sentAtFrom(value, unit);
      if (t === undefined) return;
      assert.ok(Number.isFinite(t) && t > 0 && !Number.isNaN(new Date(t).getTime()));
    }),
    { numRuns: 5000 },
  );
});
