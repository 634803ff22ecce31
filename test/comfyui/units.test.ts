// The small pure pieces of the ComfyUI target.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stableClientId } from "../../src/targets/comfyui/client-id.ts";
import { followMode, isDue, queuePlace } from "../../src/targets/comfyui/follow.ts";
import { findInHistory, findInQueue, jobMark, unconfirmedStep } from "../../src/targets/comfyui/locate.ts";
import { tempDir } from "../helpers/gateway.ts";

describe("stable client id", () => {
  it("is kept in the data directory, so a restart reuses it", () => {
    const dir = tempDir("clawgate-cid-");
    const a = stableClientId(dir);
    assert.match(a, /^clawgate-[0-9a-f]{16}$/);
    assert.equal(stableClientId(dir), a);
    assert.notEqual(stableClientId(tempDir("clawgate-cid-")), a, "another data directory, another id");
  });
  it("a configured id wins; a malformed one is refused with the rule", () => {
    assert.equal(stableClientId(tempDir("clawgate-cid-"), "replica-2"), "replica-2");
    assert.throws(() => stableClientId(tempDir("clawgate-cid-"), "bad id/"), /1-64 of A-Z a-z 0-9 _ -/);
  });
});

describe("finding a job whose submit was not answered", () => {
  const id = "0b9c6a8e-1111-4222-8333-944445555666";
  it("by its own prompt id or by clawgate's mark in extra_data (servers that ignore prompt_id)", () => {
    assert.equal(findInQueue({ running: [id], pending: [] }, id), id);
    assert.equal(
      findInQueue({ running: [], pending: ["srv-1"], extra: { "srv-1": jobMark(id) } }, id),
      "srv-1",
    );
    assert.equal(
      findInQueue({ running: ["x"], pending: [], extra: { x: { client_id: "c" } } }, id),
      undefined,
    );
    assert.equal(findInHistory({ [id]: { outputs: {} } }, id), id);
    assert.equal(findInHistory({ h: { outputs: {}, prompt: [0, "h", {}, jobMark(id), []] } }, id), "h");
    assert.equal(findInHistory({ h: { outputs: {}, prompt: [0, "h", {}, "junk", []] } }, id), undefined);
    assert.equal(findInHistory({}, id), undefined);
  });
});

describe("a job whose submit was not answered", () => {
  it("is followed once found, waits while missing, and is given up only after the grace time", () => {
    assert.deepEqual(unconfirmedStep("p1", undefined, 1000, 500), { kind: "found", promptId: "p1" });
    assert.deepEqual(unconfirmedStep(undefined, undefined, 1000, 500), { kind: "wait", missingSince: 1000 });
    assert.deepEqual(unconfirmedStep(undefined, 1000, 1499, 500), { kind: "wait", missingSince: 1000 });
    assert.deepEqual(unconfirmedStep(undefined, 1000, 1500, 500), { kind: "lost" });
  });
});

describe("following a job", () => {
  const intervals = { reconcileIntervalMs: 5000, pollIntervalMs: 1000 };
  it("own client id: events, with a slow safety net; any other: polled", () => {
    assert.equal(followMode({ clientId: "me" }, "me"), "events");
    assert.equal(followMode({ clientId: "openclaw-123" }, "me"), "poll");
    assert.equal(followMode({}, "me"), "poll", "jobs from before the stable id");
    assert.equal(isDue("poll", 0, 1000, intervals), true);
    assert.equal(isDue("events", 0, 1000, intervals), false);
    assert.equal(isDue("events", undefined, 1000, intervals), true);
  });
  it("where the queue has it", () => {
    const q = { running: ["r"], pending: ["a", "b"] };
    assert.deepEqual(queuePlace(q, "r"), { running: true });
    assert.deepEqual(queuePlace(q, "b"), { running: false, ahead: 2 });
    assert.equal(queuePlace(q, "x"), undefined);
  });
});
