// Approval records in the store's kv: one per id, plus single-use decision claims so that an approval is
// decided exactly once (two admins pressing the button, the expiry sweeper racing an /approve, replicas).
import { randomBytes } from "node:crypto";
import type { DeliveryAddress } from "../core/event.ts";
import type { Store } from "../store/types.ts";

const NS = "approval";
const DECISION_NS = "approval-decision";
const KEEP_AFTER_MS = 30 * 86_400_000;

export type ApprovalStatus = "pending" | "approved" | "rejected" | "expired";

export interface Requester {
  channel: string;
  account: string;
  senderId: string;
  senderName?: string;
  address: DeliveryAddress;
  sessionKey: string;
}

export interface Approval {
  id: string;
  /** Which executor runs it when approved ("comfyui.run"). */
  kind: string;
  status: ApprovalStatus;
  createdAt: number;
  expiresAt: number;
  requester: Requester;
  /** One line a person can judge: "/run txt2img steps=20 prompt=…". */
  summary: string;
  payload: Record<string, unknown>;
  decidedAt?: number;
  decidedBy?: string;
  reason?: string;
  /** What approving did ("Executed: <prompt id>") or why it could not. */
  result?: string;
  executed?: boolean;
}

/** apr_ + 12 characters of Crockford base32: short enough for a 64-byte button value. */
export function newApprovalId(): string {
  const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  const bytes = randomBytes(12);
  let out = "apr_";
  for (const b of bytes) out += alphabet[b & 31];
  return out;
}

export class ApprovalStore {
  readonly #store: Store;
  constructor(store: Store) {
    this.#store = store;
  }

  async get(id: string): Promise<Approval | undefined> {
    const raw = await this.#store.kvGet(NS, id);
    return raw ? (JSON.parse(raw) as Approval) : undefined;
  }

  async put(a: Approval) {
    const ttl = Math.max(a.expiresAt - Date.now(), 0) + KEEP_AFTER_MS;
    await this.#store.kvSet(NS, a.id, JSON.stringify(a), ttl);
  }

  async list(status?: ApprovalStatus): Promise<Approval[]> {
    const rows = await this.#store.kvList(NS, { limit: 1000 });
    return rows
      .map((r) => JSON.parse(r.value) as Approval)
      .filter((a) => !status || a.status === status)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** True for exactly one caller per approval id. */
  async claimDecision(id: string, by: string): Promise<boolean> {
    return this.#store.kvSetIfAbsent(DECISION_NS, id, by, KEEP_AFTER_MS);
  }
}
