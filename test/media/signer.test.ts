// A signed media link has exactly one spelling: a token whose signature is spelled differently — other unused
// bits in its last base64url character, padding, stray characters — is refused even where it decodes to the
// same bytes, like any other altered token.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { type MediaClaim, signMediaToken, verifyMediaToken } from "../../src/media/signer.ts";

const KEY = Buffer.from("0123456789abcdef0123456789abcdef");
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const claimArb: fc.Arbitrary<MediaClaim> = fc.record({
  file: fc.stringMatching(/^[a-f0-9]{8,32}\.(png|jpg|bin)$/),
  conversation: fc.string({ minLength: 1, maxLength: 40 }),
  expiresAt: fc.integer({ min: 2_000_000_000, max: 4_000_000_000 }),
  mime: fc.constantFrom("image/png", "image/jpeg", "application/pdf"),
  name: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
});

/** The same signature bytes spelled another way: the last character's two unused low bits set differently. */
function respellLast(token: string, bits: number): string {
  const last = ALPHABET.indexOf(token.at(-1)!);
  return token.slice(0, -1) + ALPHABET[(last & ~3) | bits]!;
}

test("fixed case: a signature whose unused bits differ decodes to the same bytes and is still refused", () => {
  const token = signMediaToken(KEY, {
    file: "a.png",
    conversation: "telegram:default:1",
    expiresAt: 3e9,
    mime: "image/png",
  });
  assert.equal(verifyMediaToken(KEY, token).ok, true);
  for (let bits = 0; bits < 4; bits++) {
    const other = respellLast(token, bits);
    if (other === token) continue;
    const sig = (t: string) => Buffer.from(t.slice(t.indexOf(".") + 1), "base64url");
    assert.deepEqual(sig(other), sig(token), "the same bytes");
    assert.deepEqual(verifyMediaToken(KEY, other), { ok: false, reason: "invalid" });
  }
  for (const other of [
    `${token}=`,
    `${token}==`,
    `${token}.`,
    `${token} `,
    token.replace(/\.(.)/, ".$1\n"),
  ]) {
    assert.deepEqual(verifyMediaToken(KEY, other), { ok: false, reason: "invalid" }, JSON.stringify(other));
  }
});

test("property: every altered token is refused", () => {
  const edit = fc.oneof(
    fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat(),
      ch: fc.constantFrom(...`${ALPHABET}=.+/ `),
    }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      ch: fc.constantFrom(...`${ALPHABET}=.+/ `),
    }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("bits" as const), bits: fc.integer({ min: 0, max: 3 }) }),
  );
  fc.assert(
    fc.property(claimArb, edit, (claim, e) => {
      const token = signMediaToken(KEY, claim);
      let other: string;
      if (e.kind === "bits") other = respellLast(token, e.bits);
      else {
        const at = e.at % (token.length + (e.kind === "insert" ? 1 : 0));
        other =
          e.kind === "set"
            ? token.slice(0, at) + e.ch + token.slice(at + 1)
            : e.kind === "insert"
              ? token.slice(0, at) + e.ch + token.slice(at)
              : token.slice(0, at) + token.slice(at + 1);
      }
      fc.pre(other !== token);
      assert.equal(verifyMediaToken(KEY, token, 0).ok, true);
      assert.equal(verifyMediaToken(KEY, other, 0).ok, false, other);
    }),
    { numRuns: 3000 },
  );
});
