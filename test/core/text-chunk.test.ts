import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { chunkText } from "../../src/core/text-chunk.ts";

it("leaves short text alone", () => {
  assert.deepEqual(chunkText("hello", 10), ["hello"]);
  assert.deepEqual(chunkText("", 10), [""]);
});

it("splits on paragraph, then line, then sentence, then word boundaries", () => {
  const para = `${"a".repeat(60)}\n\n${"b".repeat(60)}`;
  assert.deepEqual(chunkText(para, 100), ["a".repeat(60), "b".repeat(60)]);
  const words = "alpha beta gamma delta epsilon zeta eta theta";
  const chunks = chunkText(words, 16);
  for (const c of chunks) assert.ok(c.length <= 16, c);
  assert.equal(chunks.join(" "), words);
});

it("never exceeds the limit and never loses text, even without spaces", () => {
  const text = "x".repeat(10_000);
  const chunks = chunkText(text, 4096);
  assert.ok(chunks.every((c) => c.length <= 4096));
  assert.equal(chunks.join(""), text);
});

it("does not split a surrogate pair (emoji) in half", () => {
  const text = "😀".repeat(10);
  const chunks = chunkText(text, 5);
  for (const c of chunks) assert.ok(!/[\uD800-\uDBFF]$/.test(c), "no dangling high surrogate");
  assert.equal(chunks.join(""), text);
});

it("an astral character with limit 1 is one chunk (it used to loop for ever)", () => {
  assert.deepEqual(chunkText("𐀀", 1), ["𐀀"]);
  assert.deepEqual(chunkText("a𐀀b", 1), ["a", "𐀀", "b"]);
  assert.deepEqual(chunkText("😀😀", 3), ["😀", "😀"]);
});

it("refuses a limit that is not a finite number ≥ 1", () => {
  for (const bad of [Number.NaN, 0, -5, 0.5, Number.POSITIVE_INFINITY])
    assert.throws(() => chunkText("hello", bad), RangeError, String(bad));
  assert.deepEqual(chunkText("abcd", 2.7), ["ab", "cd"]);
});

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

it("property: terminates, chunks fit, no half pairs, nothing lost but whitespace at cuts", () => {
  const text = fc.oneof(
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.string({ unit: fc.constantFrom("a", " ", "\n", ". ", "😀", "𐀀", "。", "é"), maxLength: 300 }),
  );
  fc.assert(
    fc.property(text, fc.integer({ min: 1, max: 40 }), (input, limit) => {
      const chunks = chunkText(input, limit);
      let pos = 0;
      for (const c of chunks) {
        const points = [...c];
        assert.ok(c.length <= limit || points.length === 1, `chunk ${JSON.stringify(c)} > ${limit}`);
        assert.ok(!isLow(c.charCodeAt(0)) && !isHigh(c.charCodeAt(c.length - 1)), "half a pair at a cut");
        const at = input.indexOf(c, pos);
        assert.ok(at >= pos, "chunks come from the input in order");
        assert.match(input.slice(pos, at), /^\s*$/);
        pos = at + c.length;
      }
      assert.match(input.slice(pos), /^\s*$/);
    }),
    { numRuns: 3000 },
  );
});
