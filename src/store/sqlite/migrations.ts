// Versioned schema for the SQLite store. Append new migrations; never edit an applied one.

export const sqliteMigrations: string[] = [
  `
  CREATE TABLE inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    session_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error TEXT,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX inbox_open_lane ON inbox(session_key, seq) WHERE state IN ('pending', 'leased');
  CREATE INDEX inbox_open_ready ON inbox(available_at) WHERE state IN ('pending', 'leased');
  CREATE INDEX inbox_state ON inbox(state, seq);

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    session_key TEXT NOT NULL,
    channel TEXT NOT NULL,
    account TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_id TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error TEXT,
    result TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX outbox_open_lane ON outbox(session_key, id) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_open_ready ON outbox(available_at) WHERE state IN ('pending', 'leased');
  CREATE INDEX outbox_state ON outbox(state, id);

  CREATE TABLE sessions (
    key TEXT PRIMARY KEY,
    generation INTEGER NOT NULL DEFAULT 1,
    title TEXT,
    last_message TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_updated ON sessions(updated_at);

  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_key TEXT NOT NULL,
    generation INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    event_id TEXT,
    author TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX messages_session ON messages(session_key, id);

  CREATE TABLE kv (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (namespace, key)
  );

  CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL
  );
  `,
];
