// The small pure pieces of the ComfyUI target.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stableClientId } from "../../src/targets/comfyui/client-id.ts";
import { findInHistory, findInQueue, jobMark } from "../../src/targets/comfyui/locate.ts";
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
