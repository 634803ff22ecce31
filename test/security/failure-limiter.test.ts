// The per-address failure limiter: IPv6 clients counted per /64 (anyone gets 2^64 addresses), IPv4-mapped
// addresses as IPv4, and a table that stays bounded however many addresses fail.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { addressKey, FailureLimiter, MAX_KEYS } from "../../src/security/failure-limiter.ts";

test("one IPv6 /64 is one client: rotating addresses inside it does not reset the count", () => {
  const limiter = new FailureLimiter(3, 60_000);
  const now = 1_000_000;
  limiter.fail("2001:db8:1:2::1", now);
  limiter.fail("2001:db8:1:2:ffff:ffff:ffff:fffe", now);
  limiter.fail("2001:0db8:0001:0002:0:0:0:9", now);
  assert.ok(limiter.blockedForMs("2001:db8:1:2::abcd", now) > 0, "blocked for the whole /64");
  assert.equal(limiter.blockedForMs("2001:db8:1:3::1", now), 0, "another /64 is another client");
  assert.equal(limiter.blockedForMs("2001:db8:1:2::1", now + 60_001), 0, "until the window passes");
});

test("IPv4 addresses are counted alone, and the mapped spelling is the same client", () => {
  const limiter = new FailureLimiter(2, 60_000);
  limiter.fail("192.0.2.7", 0);
  limiter.fail("::ffff:192.0.2.7", 0);
  assert.ok(limiter.blockedForMs("192.0.2.7", 0) > 0);
  assert.ok(limiter.blockedForMs("::FFFF:192.0.2.7", 0) > 0);
  assert.equal(limiter.blockedForMs("192.0.2.8", 0), 0);
  assert.equal(addressKey("unknown"), "unknown");
});

test("property: every spelling of an IPv6 address has the key of its /64", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), (g) => {
      const full = g.map((x) => x.toString(16).padStart(4, "0")).join(":");
      const canonical = new URL(`http://[${full}]`).hostname.slice(1, -1);
      const expected = `${g
        .slice(0, 4)
        .map((x) => x.toString(16))
        .join(":")}::/64`;
      assert.equal(addressKey(full), expected);
      assert.equal(addressKey(canonical), expected, canonical);
    }),
    { numRuns: 2000 },
  );
});

test("the table stays bounded when many addresses fail", () => {
  const limiter = new FailureLimiter(5, 60_000);
  for (let i = 0; i < MAX_KEYS + 5000; i++)
    limiter.fail(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 0);
  assert.ok(limiter.size <= MAX_KEYS, String(limiter.size));
});
