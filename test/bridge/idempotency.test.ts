// The idempotency fingerprint: the same request with its keys in another order is the same request (a
// client's JSON library may order keys differently on a retry); a different value is a different request.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { type SecurityExtension, securityExtension } from "../../src/bridge/extension.ts";
import { canonicalJson, fingerprint, Idempotency, legacyFingerprint } from "../../src/bridge/idempotency.ts";
import { SqliteStore } from "../../src/store/sqlite/store.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";
import { expectMessage, history, newThread, postJson } from "../security/chat.ts";

/** The same value with every object's keys in an order drawn from `rand`. */
function shuffled(v: unknown, rand: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => shuffled(x, rand));
  if (v === null || typeof v !== "object") return v;
  const entries = Object.entries(v as Record<string, unknown>);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) Object.defineProperty(out, k, { value: shuffled(x, rand), enumerable: true });
  return out;
}

/** What the bridge fingerprints: a value as it comes out of JSON.parse. */
const asParsed = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe("idempotency fingerprint", () => {
  test("the same object with shuffled keys (at any depth) has the same fingerprint", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (raw, seed) => {
        const v = asParsed(raw);
        let s = seed >>> 0 || 1;
        const rand = () => {
          s = (s * 1103515245 + 12345) >>> 0;
          return s / 2 ** 32;
        };
        const w = shuffled(v, rand);
        assert.equal(fingerprint(w), fingerprint(v));
        assert.deepEqual(JSON.parse(canonicalJson(w)), v, "canonical JSON is the same value");
      }),
      { numRuns: 3000 },
    );
  });

  test("different values have different fingerprints", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        const [x, y] = [asParsed(a), asParsed(b)];
        if (isDeepStrictEqual(x, y)) assert.equal(fingerprint(x), fingerprint(y));
        else assert.notEqual(fingerprint(x), fingerprint(y));
      }),
      { numRuns: 3000 },
    );
    const fixed: [unknown, unknown][] = [
      [
        { a: 1, b: 2 },
        { a: 2, b: 1 },
      ],
      [{ a: [1, 2] }, { a: [2, 1] }],
      [{ a: "1" }, { a: 1 }],
      [{ a: null }, {}],
      [{ "a,b": 1 }, { a: 1, b: 1 }],
      [{ a: { b: 1 } }, { "a.b": 1 }],
      [["a", "b"], ["a,b"]],
    ];
    for (const [x, y] of fixed) assert.notEqual(fingerprint(x), fingerprint(y), JSON.stringify([x, y]));
    assert.equal(
      fingerprint({ z: { y: 1, x: [{ b: 2, a: 1 }] }, a: "" }),
      fingerprint({ a: "", z: { x: [{ a: 1, b: 2 }], y: 1 } }),
    );
  });

  test("a deeply nested body is fingerprinted without overflowing the stack", () => {
    const deep = JSON.parse(`${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    assert.match(fingerprint(deep), /^[0-9a-f]{64}$/);
  });

  test("a claim stored by an older version (unsorted fingerprint) still matches its retry", async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), "clawgate-idem-")), "s.db"));
    await store.migrate();
    try {
      const idem = new Idempotency(store);
      const body = { text: "hi", idempotency_key: "k", target: "webchat:t" };
      await idem.begin("dev:deliver", "k", legacyFingerprint(body)!);
      await idem.finish("dev:deliver", "k", legacyFingerprint(body)!, 200, { ok: true });
      const retry = await idem.begin("dev:deliver", "k", fingerprint(body), legacyFingerprint(body));
      assert.equal(retry.kind, "replay");
      const other = { ...body, text: "other" };
      const changed = await idem.begin("dev:deliver", "k", fingerprint(other), legacyFingerprint(other));
      assert.equal(changed.kind, "mismatch");
    } finally {
      await store.close();
    }
  });
});

describe("idempotent bridge calls with reordered keys", () => {
  let gw: TestGateway;
  let ext: SecurityExtension;
  before(async () => {
    ext = securityExtension();
    gw = await startTestGateway({ config: { bridge: { enabled: true } }, extensions: [ext] });
  });
  after(async () => {
    await gw.stop();
  });

  test("a retried deliver whose JSON keys come in another order is a replay, delivered once", async () => {
    const devices = ext.pairing!.devices;
    const { request } = await devices.createRequest({ name: "t", requestedScopes: [] });
    const approved = await devices.approve(request.id, "test", ["delivery:send"]);
    const issued = (await devices.issueToken(approved!.deviceId!))!;
    const headers = { "x-openclaw-device-id": issued.deviceId, "x-openclaw-device-token": issued.token };
    const thread = await newThread(gw.url);
    const target = `webchat:default:${thread}`;
    const first = await postJson(
      `${gw.url}/bridge/deliver`,
      { target, text: "one delivery", idempotency_key: "reorder-1", files: [] },
      headers,
    );
    assert.equal(first.status, 200);
    const retry = await postJson(
      `${gw.url}/bridge/deliver`,
      { files: [], idempotency_key: "reorder-1", text: "one delivery", target },
      headers,
    );
    assert.equal(retry.status, 200, JSON.stringify(retry.json));
    assert.equal(retry.json.deduped, true);
    assert.equal(retry.json.delivery_id, first.json.delivery_id);
    const changed = await postJson(
      `${gw.url}/bridge/deliver`,
      { files: [], idempotency_key: "reorder-1", text: "another text", target },
      headers,
    );
    assert.equal(changed.status, 409, "a different body with the same key is still refused");
    await expectMessage(gw.url, thread, (m) => m.content === "one delivery", "the delivery");
    const seen = (await history(gw.url, thread)).filter((m) => m.content === "one delivery");
    assert.equal(seen.length, 1, "delivered once");
  });
});
