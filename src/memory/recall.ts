// Semantic recall over a workspace's memories: cosine similarity in JavaScript over the vectors kept in the
// store. A workspace holds at most a thousand short facts, so a scan costs well under a millisecond and works the
// same on SQLite and PostgreSQL (pgvector would only pay off far beyond that). Pure.

export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || !a.length) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** The `k` items most similar to `query` (items without a vector are skipped), best first. */
export function nearest<T extends { vector: number[] | null }>(query: number[], items: T[], k: number): T[] {
  return items
    .filter((i) => i.vector)
    .map((i) => ({ i, score: cosine(query, i.vector!) }))
    .sort((x, y) => y.score - x.score)
    .slice(0, k)
    .map((x) => x.i);
}
