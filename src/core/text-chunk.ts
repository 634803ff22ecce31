// Splits text at a platform's length limit on the safest boundary available: paragraph, line, sentence,
// word, and only as a last resort mid-word — and then between code points, never inside a surrogate pair.
// Lengths are UTF-16 code units (what JavaScript, Telegram, Slack and LINE count).
//
// Guarantees (test/core/text-chunk.test.ts checks them on generated input): it terminates, every chunk is at
// most `limit` units long — except a chunk holding one code point that alone is longer than the limit (an
// astral character with limit 1), which is sent whole rather than split into lone surrogates — no chunk
// starts or ends with half a surrogate pair, and the chunks joined give back the input except for the
// whitespace trimmed at each cut.

export function chunkText(text: string, limit: number): string[] {
  if (!Number.isFinite(limit) || limit < 1)
    throw new RangeError(`limit must be a finite number ≥ 1, got ${limit}`);
  const max = Math.floor(limit);
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const cut = findCut(rest, max);
    const head = rest.slice(0, cut).trimEnd();
    if (head.length > 0) chunks.push(head);
    rest = rest.slice(cut).replace(/^\s+/, "");
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}

/** Where to cut `text` (longer than `limit`): always > 0, so every round makes progress. */
function findCut(text: string, limit: number): number {
  const window = text.slice(0, limit + 1);
  const minUseful = Math.floor(limit / 2);
  for (const sep of ["\n\n", "\n", ". ", "! ", "? ", "。", " "]) {
    const at = window.lastIndexOf(sep, limit - sep.length);
    if (at >= minUseful && at + sep.length > 0) return at + sep.length;
  }
  let cut = limit;
  if (isHighSurrogate(text.charCodeAt(cut - 1)) && isLowSurrogate(text.charCodeAt(cut))) cut -= 1;
  // A single code point longer than the limit: take it whole.
  if (cut === 0) cut = isHighSurrogate(text.charCodeAt(0)) && isLowSurrogate(text.charCodeAt(1)) ? 2 : 1;
  return cut;
}

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
