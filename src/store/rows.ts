// Database rows (snake_case columns, as both stores name them) to the Store interface's objects. Shared by the
// SQLite and PostgreSQL stores so a new column is mapped once.
import type {
  InboxItem,
  MessagePart,
  OutboxItem,
  QueueState,
  SessionInfo,
  StoredMedia,
  StoredMessage,
} from "./types.ts";

export type Row = Record<string, unknown>;

const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function inboxFromRow(r: Row): InboxItem {
  return {
    seq: Number(r.seq),
    id: String(r.id),
    sessionKey: String(r.session_key),
    payload: String(r.payload),
    receivedAt: Number(r.received_at),
    state: r.state as QueueState,
    attempts: Number(r.attempts),
    availableAt: Number(r.available_at),
    leaseOwner: str(r.lease_owner),
    leaseUntil: num(r.lease_until),
    lastError: str(r.last_error),
  };
}

export function outboxFromRow(r: Row): OutboxItem {
  return {
    id: Number(r.id),
    idempotencyKey: String(r.idempotency_key),
    sessionKey: String(r.session_key),
    channel: String(r.channel),
    account: String(r.account),
    payload: String(r.payload),
    eventId: str(r.event_id) ?? undefined,
    state: r.state as QueueState,
    attempts: Number(r.attempts),
    availableAt: Number(r.available_at),
    leaseOwner: str(r.lease_owner),
    leaseUntil: num(r.lease_until),
    lastError: str(r.last_error),
    result: str(r.result),
    createdAt: Number(r.created_at),
  };
}

export function sessionFromRow(r: Row): SessionInfo {
  return {
    key: String(r.key),
    generation: Number(r.generation),
    title: str(r.title),
    lastMessage: str(r.last_message),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export function messageFromRow(r: Row): StoredMessage {
  return {
    id: Number(r.id),
    sessionKey: String(r.session_key),
    generation: Number(r.generation),
    role: r.role as StoredMessage["role"],
    content: String(r.content),
    eventId: str(r.event_id),
    author: str(r.author),
    createdAt: Number(r.created_at),
    parts: typeof r.parts === "string" ? (JSON.parse(r.parts) as MessagePart[]) : null,
  };
}

export function mediaFromRow(r: Row): StoredMedia {
  const b = r.bytes as Uint8Array;
  return {
    id: String(r.id),
    owner: String(r.owner),
    mime: String(r.mime),
    name: str(r.name),
    size: Number(r.size),
    // node:sqlite returns a Uint8Array, pg a Buffer: one type for callers, without copying.
    bytes: Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}
