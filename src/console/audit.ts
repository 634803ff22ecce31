// The audit log of admin calls that changed something (src/http/admin-routes.ts records them): in the store's
// kv table, shared by replicas, kept 30 days. Keys count down from a far-future time, so the store's key order
// is newest first and a page of the newest entries is one ordered read.
import { randomBytes } from "node:crypto";
import type { AuditEntry, AuditSink } from "../http/admin-routes.ts";
import type { KvStore } from "../store/facets.ts";

const NS = "console-audit";
export const AUDIT_KEEP_MS = 30 * 86_400_000;
const FAR = 9_999_999_999_999;
const SEQ_SPAN = 1_000_000_000;
/** Orders entries of one millisecond in this process: the later one sorts first. */
let seq = 0;

export class AuditLog implements AuditSink {
  readonly #kv: KvStore;
  readonly #listeners = new Set<(e: AuditEntry) => void>();

  constructor(kv: KvStore) {
    this.#kv = kv;
  }

  async record(e: Omit<AuditEntry, "id">): Promise<AuditEntry> {
    seq = (seq + 1) % SEQ_SPAN;
    const order = String(SEQ_SPAN - seq).padStart(10, "0");
    const id = `${String(FAR - e.at).padStart(13, "0")}-${order}-${randomBytes(4).toString("hex")}`;
    const entry: AuditEntry = { id, ...e };
    await this.#kv.kvSet(NS, id, JSON.stringify(entry), AUDIT_KEEP_MS);
    for (const l of this.#listeners) l(entry);
    return entry;
  }

  /** Newest first. */
  async list(limit = 50): Promise<AuditEntry[]> {
    const rows = await this.#kv.kvList(NS, { limit });
    return rows.map((r) => JSON.parse(r.value) as AuditEntry);
  }

  /** Entries recorded by this process as they happen (other replicas' arrive through `list`). */
  subscribe(listener: (e: AuditEntry) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
