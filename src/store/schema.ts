// The first schema of both stores, written once. The dialects differ only in spelling: SQLite's auto-increment
// key, integer and (no) CHECK against PostgreSQL's BIGSERIAL, BIGINT and the queue-state CHECK. Rendering gives
// exactly the text each store applied before it was shared, so databases created either way are the same.
// Later migrations are appended per dialect in sqlite/migrations.ts and postgres/migrations.ts.

const SPELLING = {
  sqlite: {
    serial: "INTEGER PRIMARY KEY AUTOINCREMENT",
    ms: "INTEGER",
    state: "TEXT NOT NULL DEFAULT 'pending'",
  },
  postgres: {
    serial: "BIGSERIAL PRIMARY KEY",
    ms: "BIGINT",
    state: "TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'leased', 'done', 'dead'))",
  },
};

export function schemaV1(dialect: "sqlite" | "postgres"): string {
  const s = SPELLING[dialect];
  return V1.replaceAll("{serial}", s.serial).replaceAll("{ms}", s.ms).replaceAll("{state}", s.state);
}

const V1 = `
  CREATE TABLE inbox (
    seq {serial},
    id TEXT NOT NULL UNIQUE,
    session_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at {ms} NOT NULL,
    state {state},
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at {ms} NOT NULL,
    lease_owner TEXT,
    lease_until {ms},
    last_error TEXT,
    updated_at {ms} NOT NULL
  );
  CREATE INDEX inbox_open_lane ON inbox(session_key, seq) WHERE state IN ('pending', 'leased');
  CREATE INDEX inbox_open_ready ON inbox(available_at) WHERE state IN ('pending', 'leased');
  CREATE INDEX inbox_state ON inbox(state, seq);

  CREATE TABLE outbox (
    id {serial},
    idempotency_key TEXT NOT NULL UNIQUE,
    session_key TEXT NOT NULL,
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_id TEXT,
    state {state},
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at {ms} NOT NULL,
    lease_owner TEXT,
    lease_until {ms},
    last_error TEXT,
    result TEXT,
    created_at {ms} NOT NULL,
    updated_at {ms} NOT NULL
  );
  CREATE INDEX outbox_open_lane ON outbox(session_key, id) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_open_ready ON outbox(available_at) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_state ON outbox(state, id);

  CREATE TABLE sessions (
    key TEXT PRIMARY KEY,
    generation INTEGER NOT NULL DEFAULT 1,
    title TEXT,
    last_message TEXT,
    created_at {ms} NOT NULL,
    updated_at {ms} NOT NULL
  );
  CREATE INDEX sessions_updated ON sessions(updated_at);

  CREATE TABLE messages (
    id {serial},
    session_key TEXT NOT NULL,
    generation INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    event_id TEXT,
    author TEXT,
    created_at {ms} NOT NULL
  );
  CREATE INDEX messages_session ON messages(session_key, id);

  CREATE TABLE kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at {ms},
    PRIMARY KEY (namespace, key)
  );

  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until {ms} NOT NULL
  );
  `;

/**
 * Media bytes in the store, so every replica can serve and read every file (a photo one replica downloaded, an
 * image another publishes): inbound attachments, history images, files published for platforms that fetch by
 * URL. `owner` is the conversation (or `webchat:` thread) the file belongs to; rows expire and retention sweeps.
 * A message's `parts` (JSON, src/store/types.ts MessagePart) name the media a user turn carried.
 */
export function mediaTable(dialect: "sqlite" | "postgres"): string {
  const ms = SPELLING[dialect].ms;
  const bytes = dialect === "sqlite" ? "BLOB" : "BYTEA";
  return `
  CREATE TABLE media (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    mime TEXT NOT NULL,
    name TEXT,
    size INTEGER NOT NULL,
    bytes ${bytes} NOT NULL,
    created_at ${ms} NOT NULL,
    expires_at ${ms} NOT NULL
  );
  CREATE INDEX media_expiry ON media(expires_at);
  CREATE INDEX media_owner ON media(owner);
  ALTER TABLE messages ADD COLUMN parts TEXT;
  `;
}
