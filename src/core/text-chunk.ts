// Splits text at a platform's length limit on the safest boundary available: paragraph, line, sentence,
// word, and only as a last resort mid-word. Never splits a UTF-16 surrogate pair.

export function chunkText(text: string, limit: number): string[] {
  if (limit < 1) throw new RangeError("limit must be positive");
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > limit) {
    const cut = findCut(rest, limit);
    const head = rest.slice(0, cut).trimEnd();
    if (head.length > 0) chunks.push(head);
    rest = rest.slice(cut).replace(/^\s+/, "");
  }
  if (rest.length > 0 || chunks.length === 0) chunks.push(rest);
  return chunks;
}

function findCut(text: string, limit: number): number {
  const window = text.slice(0, limit + 1);
  const minUseful = Math.floor(limit / 2);
  for (const sep of ["\n\n", "\n", ". ", "! ", "? ", "。", " "]) {
    const at = window.lastIndexOf(sep, limit - sep.length);
    if (at >= minUseful) return at + sep.length;
  }
  let cut = limit;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return cut;
}
