// The pacing math on a virtual clock: each channel's buckets, run against a meter at the platform's documented
// limit with requests arriving late by an uneven transit, never exceed it, and a burst to many conversations
// finishes close to the least time the limit allows.
import assert from "node:assert/strict";
import { it } from "node:test";
import { LINE_PACE } from "../../src/channels/line/client.ts";
import { TELEGRAM_PACE } from "../../src/channels/telegram/client.ts";
import { whatsappPace } from "../../src/channels/whatsapp/client.ts";
import { type BucketSpec, minimumSpanMs, Pacer } from "../../src/runtime/pacer.ts";
import { type Limit, RateMeter } from "../fakes/rate-meter.ts";

/**
 * A busy machine: every 2 s the process stalls for `stallMs`, and what was sent meanwhile reaches the platform
 * together when it ends; otherwise a send is 0–20 ms in transit (deterministic, so a failure can be replayed).
 */
function stalls(stallMs: number) {
  let x = 7;
  return (takenAt: number) => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    const into = takenAt % 2000;
    return into < stallMs ? stallMs - into : (x / 2 ** 31) * 20;
  };
}

/**
 * Takes `n` sends through the pacer as fast as it allows, each to its own conversation; returns when each was
 * taken and when it reached the platform (taken + transit).
 */
function simulate(n: number, specs: (i: number) => BucketSpec[], transit: (takenAt: number) => number) {
  let now = 0;
  const pacer = new Pacer(() => now);
  const taken: number[] = [];
  const arrived: number[] = [];
  for (let i = 0; i < n; ) {
    const wait = pacer.tryTake(specs(i));
    if (wait > 0) {
      now += wait;
      continue;
    }
    taken.push(now);
    arrived.push(now + transit(now));
    i++;
  }
  return { taken, arrived: arrived.sort((a, b) => a - b) };
}

function refusedBy(limit: Limit, arrivals: number[]): number {
  let now = 0;
  const meter = new RateMeter(() => now);
  let refused = 0;
  for (const t of arrivals) {
    now = t;
    if (meter.hit([["platform", limit]]).waitMs > 0) refused++;
  }
  return refused;
}

it("minimumSpanMs: the burst goes at once, every later send waits one interval", () => {
  assert.equal(minimumSpanMs(30, { ratePerSec: 30, burst: 30 }), 0);
  assert.equal(minimumSpanMs(500, { ratePerSec: 30, burst: 30 }), (470 / 30) * 1000);
  assert.equal(minimumSpanMs(500, { ratePerSec: 20, burst: 20 }), 24_000);
  assert.equal(minimumSpanMs(10, { ratePerSec: 1, burst: 1 }), 9000);
});

it("the pacer's first-to-last span is minimumSpanMs of its own bucket", () => {
  const spec = { key: "bot", ...TELEGRAM_PACE.bot };
  const { taken } = simulate(
    500,
    () => [spec],
    () => 0,
  );
  assert.ok(
    Math.abs(taken.at(-1)! - minimumSpanMs(500, spec)) <= 500 * 1,
    "within a ms of rounding per send",
  );
});

const cases: { name: string; limit: Limit; specs: (i: number) => BucketSpec[] }[] = [
  {
    name: "Telegram, 30 a second per bot",
    limit: { perSec: 30, burst: 30 },
    specs: (i) => [
      { key: "bot", ...TELEGRAM_PACE.bot },
      { key: `chat:${i}`, ...TELEGRAM_PACE.chat },
    ],
  },
  {
    name: "WhatsApp, 80 a second per number",
    limit: { perSec: 80, burst: 80 },
    specs: (i) => [
      { key: "global", ...whatsappPace(80).number },
      { key: `chat:${i}`, ...whatsappPace(80).pair },
    ],
  },
  {
    name: "WhatsApp, a 20 mps coexistence number",
    limit: { perSec: 20, burst: 20 },
    specs: (i) => [
      { key: "global", ...whatsappPace(20).number },
      { key: `chat:${i}`, ...whatsappPace(20).pair },
    ],
  },
  {
    name: "LINE, 2,000 a second per endpoint",
    limit: { perSec: 2000, burst: 2000 },
    specs: (i) => [
      { key: "endpoint:/v2/bot/message/push", ...LINE_PACE.endpoint },
      { key: `chat:${i}`, ...LINE_PACE.chat },
    ],
  },
];

for (const c of cases) {
  it(`${c.name}: 25 s of sends, stalls of 600 ms, nothing refused, within 10 % of the minimum`, () => {
    const n = 25 * c.limit.perSec;
    const { taken, arrived } = simulate(n, c.specs, stalls(600));
    assert.equal(refusedBy(c.limit, arrived), 0, "the platform refused nothing");
    const minimum = minimumSpanMs(n, { ratePerSec: c.limit.perSec, burst: c.limit.burst });
    const span = taken.at(-1)! - taken[0]!;
    assert.ok(span <= minimum * 1.1, `${span} ms against a minimum of ${minimum} ms`);
  });
}

it("without the unused burst the same transit would be refused (the margin is what prevents it)", () => {
  const { arrived } = simulate(
    750,
    (i) => [
      { key: "bot", ratePerSec: 30, burst: 30 },
      { key: `chat:${i}`, ...TELEGRAM_PACE.chat },
    ],
    stalls(600),
  );
  assert.ok(refusedBy({ perSec: 30, burst: 30 }, arrived) > 0);
});
