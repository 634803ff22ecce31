// Idempotency for mutating bridge calls: the first request with a key claims it atomically (kvSetIfAbsent),
// does the work and stores its answer for 24 h; a repeat gets that answer back with deduped:true and nothing
// is done again. The same key with a different body is a client bug and is refused.
import { createHash } from "node:crypto";
import type { KvStore } from "../store/facets.ts";

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

/** A piece of output text on canonicalJson's work stack (anything else on it is a value still to write). */
class Text {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/**
 * JSON text with every object's keys sorted (by UTF-16 code units, at every depth); arrays keep their order.
 * Iterative, so a deeply nested body cannot overflow the stack.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const work: unknown[] = [value];
  while (work.length > 0) {
    const item = work.pop();
    if (item instanceof Text) {
      out.push(item.text);
    } else if (Array.isArray(item)) {
      work.push(new Text("]"));
      for (let i = item.length - 1; i >= 0; i--) {
        work.push(item[i] === undefined ? null : item[i]);
        if (i > 0) work.push(new Text(","));
      }
      work.push(new Text("["));
    } else if (item !== null && typeof item === "object") {
      const record = item as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      work.push(new Text("}"));
      for (let i = keys.length - 1; i >= 0; i--) {
        work.push(record[keys[i]!]);
        work.push(new Text(`${i > 0 ? "," : ""}${JSON.stringify(keys[i])}:`));
      }
      work.push(new Text("{"));
    } else {
      out.push(JSON.stringify(item) ?? "null");
    }
  }
  return out.join("");
}

/** What a request is compared by: the same JSON value, whatever the order of its keys, gives the same text. */
export function fingerprint(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/**
 * The fingerprint before keys were sorted, accepted for claims stored by an older version during the 24 h
 * window, so a client retrying across an upgrade is not told its key was used for a different request.
 */
export function legacyFingerprint(value: unknown): string | undefined {
  try {
    return createHash("sha256").update(JSON.stringify(value)).digest("hex");
  } catch {
    return undefined;
  }
}

export class Idempotency {
  readonly #store: KvStore;

  constructor(store: KvStore) {
    this.#store = store;
  }

  #key(scope: string, key: string) {
    return `${scope}:${createHash("sha256").update(key).digest("hex")}`;
  }

  /** `legacyFp` also matches a stored claim (see legacyFingerprint); new claims always store `fp`. */
  async begin(scope: string, key: string, fp: string, legacyFp?: string): Promise<Begin> {
    const k = this.#key(scope, key);
    const claim: Entry = { state: "in-progress", fingerprint: fp };
    if (await this.#store.kvSetIfAbsent(NS, k, JSON.stringify(claim), IN_PROGRESS_TTL_MS))
      return { kind: "new" };
    const raw = await this.#store.kvGet(NS, k);
    if (!raw) return this.begin(scope, key, fp, legacyFp);
    const entry = JSON.parse(raw) as Entry;
    if (entry.fingerprint !== fp && (legacyFp === undefined || entry.fingerprint !== legacyFp))
      return { kind: "mismatch" };
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
