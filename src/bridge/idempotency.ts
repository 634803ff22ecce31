// Idempotency for mutating bridge calls: the first request with a key claims it atomically (kvSetIfAbsent),
// does the work and stores its answer for 24 h; a repeat gets that answer back with deduped:true and nothing
// is done again. The same key with a different body is a client bug and is refused.
import { createHash } from "node:crypto";
import type { Store } from "../store/types.ts";

const NS = "bridge:idem";
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A claim whose holder died (crash mid-request) is released after this long. */
const IN_PROGRESS_TTL_MS = 2 * 60_000;

interface Entry {
  state: "in-progress" | "done";
  fingerprint: string;
  status?: number;
  body?: Record<string, unknown>;
}

export type Begin =
  | { kind: "new" }
  | { kind: "replay"; status: number; body: Record<string, unknown> }
  | { kind: "in-progress" }
  | { kind: "mismatch" };

export function fingerprint(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

export class Idempotency {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  #key(scope: string, key: string) {
    return `${scope}:${createHash("sha256").update(key).digest("hex")}`;
  }

  async begin(scope: string, key: string, fp: string): Promise<Begin> {
    const k = this.#key(scope, key);
    const claim: Entry = { state: "in-progress", fingerprint: fp };
    if (await this.#store.kvSetIfAbsent(NS, k, JSON.stringify(claim), IN_PROGRESS_TTL_MS))
      return { kind: "new" };
    const raw = await this.#store.kvGet(NS, k);
    if (!raw) return this.begin(scope, key, fp);
    const entry = JSON.parse(raw) as Entry;
    if (entry.fingerprint !== fp) return { kind: "mismatch" };
    if (entry.state === "in-progress") return { kind: "in-progress" };
    return { kind: "replay", status: entry.status ?? 200, body: entry.body ?? {} };
  }

  async finish(scope: string, key: string, fp: string, status: number, body: Record<string, unknown>) {
    const entry: Entry = { state: "done", fingerprint: fp, status, body };
    await this.#store.kvSet(NS, this.#key(scope, key), JSON.stringify(entry), IDEMPOTENCY_TTL_MS);
  }

  /** Releases a claim when the work failed before it had any effect, so the client may retry. */
  async abandon(scope: string, key: string) {
    await this.#store.kvDelete(NS, this.#key(scope, key));
  }
}
