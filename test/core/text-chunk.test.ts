import assert from "node:assert/strict";
import { it } from "node:test";
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
